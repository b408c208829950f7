import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logExcerpt } from './log-excerpt.js';

test('a log of nothing but blank lines gives no lines, not one empty line', () => {
  assert.deepEqual(logExcerpt('', 20), []);
  assert.deepEqual(logExcerpt('\n\n  \r\n', 20), []);
});

test('blank lines are dropped and the last lines kept', () => {
  assert.deepEqual(logExcerpt('a\n\nb  \n\nc\n', 2), ['b', 'c']);
  assert.deepEqual(logExcerpt('  indented\n', 5), ['  indented']);
});
