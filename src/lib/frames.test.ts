import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTROL, demux, frame, frameReader, STDERR, STDIN, STDOUT } from './frames.js';

test('frames come out whole and in order however the bytes are cut', () => {
  const bytes = Buffer.concat([frame(STDOUT, 'hello '), frame(STDERR, Buffer.from([0, 255])), frame(CONTROL, '{"type":"eof"}'), frame(STDIN, '')]);
  for (const cut of [1, 3, 8, 9, 13, bytes.length]) {
    const seen: [number, string][] = [];
    const read = frameReader((stream, payload) => seen.push([stream, payload.toString('hex')]));
    for (let i = 0; i < bytes.length; i += cut) read(bytes.subarray(i, i + cut));
    assert.deepEqual(seen, [[1, Buffer.from('hello ').toString('hex')], [2, '00ff'], [3, Buffer.from('{"type":"eof"}').toString('hex')], [0, '']]);
  }
  assert.equal(demux(Buffer.concat([frame(STDOUT, 'a'), frame(STDERR, 'b')])), 'ab');
  assert.equal(demux(Buffer.from('raw tty bytes')), 'raw tty bytes');
});
