import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cipher, redactValues } from './secrets.js';

test('secrets round-trip, differ per encryption, key file is 0600', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-key-'));
  const c = Cipher.fromKeyFile(join(dir, 'master.key'));
  const a = c.encrypt('s3cret'), b = c.encrypt('s3cret');
  assert.notEqual(a, b);
  assert.ok(!a.includes('s3cret'));
  assert.equal(c.decrypt(a), 's3cret');
  assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
  assert.equal(Cipher.fromKeyFile(join(dir, 'master.key')).decrypt(a), 's3cret');
  const tampered = a.slice(0, -4) + (a.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  assert.throws(() => c.decrypt(tampered));
  writeFileSync(join(dir, 'bad.key'), 'short');
  assert.throws(() => Cipher.fromKeyFile(join(dir, 'bad.key')), /damaged/);
  assert.deepEqual(redactValues({ A: 'x' }, false), { A: '••••••' });
  assert.deepEqual(redactValues({ A: 'x' }, true), { A: 'x' });
});
