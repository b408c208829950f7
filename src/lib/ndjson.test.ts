import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ndjson } from './ndjson.js';

async function* chunks(...parts: string[]) { for (const p of parts) yield p; }

test('lines split across chunks, several in one, blank ones and a last line without newline', async () => {
  const out: unknown[] = [];
  for await (const o of ndjson(chunks('{"a":1}\n{"b"', ':2}\n\n{"c":3}\n{"d":', '4}'))) out.push(o);
  assert.deepEqual(out, [{ a: 1 }, { b: 2 }, { c: 3 }, { d: 4 }]);
  await assert.rejects(async () => { for await (const _ of ndjson(chunks('{bad}\n'))) void _; }, SyntaxError);
});

test('a character of several bytes split across two chunks comes out whole', async () => {
  const bytes = Buffer.from('{"status":"Téléchargement ✓"}\n');
  const at = bytes.indexOf(Buffer.from('✓')) + 1; // inside the three bytes of ✓
  const out: unknown[] = [];
  async function* buffers() { yield bytes.subarray(0, 12); yield bytes.subarray(12, at); yield bytes.subarray(at); }
  for await (const o of ndjson(buffers())) out.push(o);
  assert.deepEqual(out, [{ status: 'Téléchargement ✓' }]);
});
