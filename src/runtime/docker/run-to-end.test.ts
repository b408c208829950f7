import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BerthError } from '../../lib/errors.js';
import { EngineApi } from './engine-api.js';
import { runToEnd } from './run-to-end.js';

// A release command that runs out of time is the moment a container left behind keeps running
// unseen: a removal that fails then is said with the timeout, not dropped.
test('a command out of time whose container cannot be removed says so with its own error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-run-test-'));
  const socket = join(dir, 'docker.sock');
  const server = createServer((req, res) => {
    const json = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    const path = new URL(req.url ?? '/', 'http://docker').pathname;
    if (path === '/version') return json(200, { Version: '20.10.24', ApiVersion: '1.41', MinAPIVersion: '1.12' });
    if (path.endsWith('/containers/create')) return json(201, { Id: 'c1' });
    if (path.endsWith('/start')) { res.writeHead(204); return res.end(); }
    if (path.endsWith('/wait')) return; // never answers: the deadline passes
    if (req.method === 'DELETE') return json(500, { message: 'driver "overlay2" failed to remove root filesystem: device or resource busy' });
    return json(404, { message: 'no such thing' });
  });
  await new Promise<void>((r) => server.listen(socket, r));
  try {
    await assert.rejects(runToEnd(new EngineApi(socket), 'berth-app-release-v2', {}, { timeoutMs: 200 }), (e: BerthError) =>
      e.code === 'timeout' && /did not finish within/.test(e.message) && /docker rm -f berth-app-release-v2/.test(e.hint ?? '')
      && e.details?.leftover === 'berth-app-release-v2');
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});
