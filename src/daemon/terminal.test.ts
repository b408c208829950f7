import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseControl } from './terminal.js';

test('a client\'s control message is taken only when berth knows it and its sizes are sane', () => {
  assert.deepEqual(parseControl(Buffer.from('{"type":"resize","rows":40,"cols":120}')), { type: 'resize', rows: 40, cols: 120 });
  assert.deepEqual(parseControl(Buffer.from('{"type":"eof"}')), { type: 'eof' });
  for (const bad of ['{"type":"resize","rows":0,"cols":5}', '{"type":"resize","rows":"40","cols":1}', '{"type":"resize","rows":1e6,"cols":1}',
    '{"type":"exec","cmd":"sh"}', 'not json', '']) assert.equal(parseControl(Buffer.from(bad)), undefined, bad);
});
