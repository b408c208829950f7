import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unseenEnd } from './one-offs.js';

test('the end of a log read after the exit adds only what the followed stream had not delivered', () => {
  assert.equal(unseenEnd('', 'fine'), 'fine');
  assert.equal(unseenEnd('one\n', 'one\ntwo'), 'two');
  assert.equal(unseenEnd('a\nb\nc\n', 'b\nc\n'), '');
  assert.equal(unseenEnd('a\nb\nc\n', 'c\ndone'), 'done');
});
