// `berth up`'s options are checked before anything is installed, started or written: a bad
// value says what is wrong and how to write it, and leaves no data root behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installRoot } from '../lib/install.js';

const run = promisify(execFile);
const BIN = join(installRoot(), 'bin', 'berth');
const asRoot = process.getuid?.() === 0 ? false : 'berth up refuses anyone but root before it reads its options';

test('berth up refuses a route drain that is not a duration, or longer than 10 s, and changes nothing', { skip: asRoot }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-up-options-'));
  try {
    const root = join(dir, 'root');
    const cases = [['1m', /route-drain: "1m" is longer than 10s.*\n.*--route-drain 250ms/], ['soon', /route-drain: "soon" is not a duration/]] as const;
    for (const [value, says] of cases) {
      const err = await run(BIN, ['up', '--route-drain', value], { env: { ...process.env, BERTH_ROOT: root } })
        .then(() => assert.fail(`--route-drain ${value} was accepted`), (e: { code: number; stderr: string }) => e);
      assert.notEqual(err.code, 0);
      assert.match(err.stderr, says);
      assert.equal(existsSync(root), false, 'no data root was made');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
