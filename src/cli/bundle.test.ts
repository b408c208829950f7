// The CLI runs as a bundle (scripts/bundle-cli.mjs), which moves modules: whatever berth starts
// or copies by path (the daemon, the workers, the sample's and the images' sources) must still be
// found, and bin/berth must run that bundle, not tsc's output beside it. Needs `npm run build`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installRoot } from '../lib/install.js';
import { daemonMain } from '../daemon/build.js';
import { sampleSource } from '../bootstrap/sample.js';
import { SERVICES_WORKER } from '../provisioning/run-worker.js';
import { COPY_WORKER } from '../provisioning/object-store/run-copy.js';
import { PG_TOOLS_SCRIPT } from '../runtime/docker/pg-tools-image.js';
import { POSTGRES_ENTRYPOINT } from '../runtime/docker/service-images.js';

const run = promisify(execFile);
const BIN = join(installRoot(), 'bin', 'berth');
const BUNDLE = join(installRoot(), 'dist', 'cli', 'entry.js');
const UNBUNDLED = join(installRoot(), 'dist', 'src', 'cli', 'entry.js');
const CHUNKS = join(installRoot(), 'dist', 'cli');
const pkg = () => JSON.parse(readFileSync(join(installRoot(), 'package.json'), 'utf8')) as { name: string; version: string };

test('every file berth runs or copies by path is where the install root says', () => {
  assert.equal(pkg().name, 'berth');
  for (const f of [daemonMain(), SERVICES_WORKER, COPY_WORKER, sampleSource(), PG_TOOLS_SCRIPT, POSTGRES_ENTRYPOINT]) assert.ok(existsSync(f), `missing: ${f}`);
  assert.match(daemonMain(), /\/dist\/src\/daemon\/main\.js$/); // the daemon check (isDaemonOf) looks for this ending
});

test('bin/berth runs the bundle that npm run build made, and the bundle answers as tsc\'s output does', async () => {
  const traced = await run('sh', ['-x', BIN, '--version']);
  const exec = traced.stderr.split('\n').find((l) => l.startsWith('+ exec ')) ?? '';
  assert.ok(exec.includes('/dist/cli/entry.js '), `bin/berth did not run the bundle (npm run build makes it):\n${traced.stderr}`);
  assert.equal(traced.stdout.trim(), pkg().version);
  for (const args of [['deploy', '--help'], ['backup', '--help']]) {
    const [a, b] = await Promise.all([BUNDLE, UNBUNDLED].map((e) => run(process.execPath, [e, ...args])));
    assert.equal(a!.stdout, b!.stdout, `berth ${args.join(' ')}`);
  }
  // bad input fails the same way, before any request (no daemon runs here)
  const bad = await Promise.all([BUNDLE, UNBUNDLED].map((e) => run(process.execPath, [e, 'deploy', 'Bad_Name', '--image', 'x'])
    .then(() => assert.fail('accepted'), (err: { code: number; stderr: string }) => err)));
  assert.equal(bad[0]!.code, bad[1]!.code);
  assert.equal(bad[0]!.stderr, bad[1]!.stderr);
  assert.match(bad[0]!.stderr, /Bad_Name/);
});

test('a package the CLI imports on demand is left to Node in the bundle, not wrapped into a chunk of its own', () => {
  // esbuild's chunk for a CommonJS package exports only its default: `const { extract } = await
  // import('tar-fs')` would get undefined there (export-dir.ts does that)
  const chunks = readdirSync(CHUNKS).map((f) => readFileSync(join(CHUNKS, f), 'utf8'));
  assert.ok(chunks.some((c) => c.includes('import("tar-fs")')), 'no chunk imports tar-fs by name');
  assert.ok(!chunks.some((c) => c.includes('require_tar_fs')), 'tar-fs is bundled');
});

test('berth daemon, from the bundle, runs the installed daemon module, not a copy inside the bundle', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bundle-'));
  try {
    // stops the load right there, so that no daemon starts on this machine
    writeFileSync(join(dir, 'hook.mjs'), `import { registerHooks } from 'node:module';
registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx);
  if (r.url.endsWith('/daemon/main.js')) throw new Error('DAEMON ' + r.url); return r; } });`);
    // and, should a daemon start all the same, one without a Docker Engine, killed soon
    const env = { ...process.env, BERTH_ROOT: join(dir, 'root'), DOCKER_SOCKET: join(dir, 'no-engine.sock') };
    const err = await run(process.execPath, ['--import', join(dir, 'hook.mjs'), BUNDLE, 'daemon'], { env, timeout: 15_000 })
      .then(() => assert.fail('the daemon started'), (e: { stderr: string }) => e);
    assert.ok(err.stderr.includes(`DAEMON file://${daemonMain()}`), err.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
