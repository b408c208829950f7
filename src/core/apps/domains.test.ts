import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError } from '../../lib/errors.js';
import { changedDomains } from './domains.js';

test('domains are added last, removed in place, validated, and never all removed', () => {
  assert.deepEqual(changedDomains(['a.test'], { add: ['WWW.a.test', 'a.test'] }), ['a.test', 'www.a.test']);
  assert.deepEqual(changedDomains(['a.test', 'b.test', 'c.test'], { remove: ['b.test'] }), ['a.test', 'c.test']);
  assert.deepEqual(changedDomains(['a.test'], { add: ['b.test'], remove: ['a.test'] }), ['b.test']);
  assert.throws(() => changedDomains(['a.test'], { remove: ['a.test'] }), /at least one domain/);
  assert.throws(() => changedDomains(['a.test'], { remove: ['x.test'] }), (e: BerthError) => e.code === 'not_found');
  assert.throws(() => changedDomains(['a.test'], { add: ['bad domain'] }), /add\[0\]/);
  assert.throws(() => changedDomains(['a.test'], {}), /nothing to change/);
});
