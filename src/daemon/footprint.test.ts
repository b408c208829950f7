// The daemon never loads the services' client libraries (the AWS SDK, pg, the Redis client):
// together they would more than double its memory, and only the services worker needs them.
// One import in the wrong place (a constant from a driver module) once added 10 MB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { daemonMain } from './build.js';

const HOOK = `import { registerHooks } from 'node:module';
registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); process.stderr.write('LOADED ' + r.url + '\\n'); return r; } });`;

test('the daemon at start loads no client library of the shared services', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-footprint-'));
  try {
    writeFileSync(join(dir, 'hook.mjs'), HOOK);
    // A fresh root against this machine's Docker would be a second platform of the default
    // instance, whose reconcile may touch a real platform's containers: it gets no engine to reach.
    const child = spawn(process.execPath, ['--import', join(dir, 'hook.mjs'), daemonMain(), '--root', join(dir, 'root')],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DOCKER_SOCKET: join(dir, 'no-docker.sock') } });
    const closed = new Promise((r) => child.once('close', r)); // taken now: a daemon that gives up may exit before the wait ends
    let loaded = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { loaded += d; });
    // started once it listens: its whole import graph is loaded by then
    await new Promise((r) => setTimeout(r, 2500));
    child.kill('SIGKILL');
    await closed;
    const urls = loaded.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7));
    assert.ok(urls.some((u) => u.includes('/daemon/api.js')), `the daemon did not get far enough: ${loaded.slice(-500)}`);
    const heavy = urls.filter((u) => /node_modules\/(@aws-sdk|@smithy|pg|pg-[a-z]+|@redis)\//.test(u));
    assert.deepEqual(heavy, []);
    // nor the tar code that builds and static sites use (~2 MB resident): loaded on their first use
    assert.deepEqual(urls.filter((u) => /node_modules\/(tar-fs|tar-stream|streamx)\//.test(u)), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
