import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withRoute } from './proxy.js';

test('the desired routes with one replaced, added or removed', () => {
  const a = { app: 'a', domains: ['a.test'], upstream: 'berth-a-web', port: 8000 };
  const b = { app: 'b', domains: ['b.test'], upstream: 'berth-b-web', port: 8000 };
  assert.deepEqual(withRoute([a], 'berth-app-b', b), [a, b]);
  assert.deepEqual(withRoute([a, b], 'berth-app-a', { ...a, port: 9000 }), [b, { ...a, port: 9000 }]);
  assert.deepEqual(withRoute([a, b], 'berth-app-a', null), [b]);
});
