import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BerthError } from '../lib/errors.js';
import { EngineApi } from '../runtime/docker/engine-api.js';
import { ensureEngine } from './engine.js';

// An engine that is there but failing must be said, not taken for one that is not running: berth
// would install Docker or start a second dockerd beside it.
test('an engine that answers its ping with an error is said, and no other engine is started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ping-test-'));
  const socket = join(dir, 'docker.sock');
  const server = createServer((_req, res) => { res.writeHead(500, { 'content-type': 'text/plain' }); res.end('Internal Server Error'); });
  await new Promise<void>((r) => server.listen(socket, r));
  const lines: string[] = [];
  try {
    await assert.rejects(ensureEngine(new EngineApi(socket), (l) => lines.push(l), join(dir, 'dockerd.log')),
      (e: BerthError) => e.code === 'unavailable' && /is there but does not answer its ping/.test(e.message) && /no second engine/.test(e.hint ?? ''));
    assert.deepEqual(lines.filter((l) => /installing|starting Docker Engine/.test(l)), [], 'it tried to install or start an engine');
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});
