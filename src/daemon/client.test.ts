// The CLI's client when the daemon goes away in the middle of a streamed operation: a real HTTP
// server on a unix socket that sends some events, then drops the connection (as a killed daemon).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../lib/errors.js';
import { DaemonClient, LOST_DAEMON_DEPLOY } from './client.js';

async function serve(handle: (res: import('node:http').ServerResponse) => void): Promise<{ socket: string; server: Server; done: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-client-'));
  const socket = join(dir, 'd.sock');
  const server = createServer((_req, res) => handle(res));
  await new Promise<void>((r) => server.listen(socket, r));
  return { socket, server, done: () => { server.close(); rmSync(dir, { recursive: true, force: true }); } };
}

async function lostError(handle: (res: import('node:http').ServerResponse) => void): Promise<{ err: BerthError; events: string[] }> {
  const s = await serve(handle);
  const events: string[] = [];
  try {
    await new DaemonClient(s.socket).stream('POST', '/apps/x/deploys', {}, (e) => events.push(e.type));
    assert.fail('the stream resolved');
  } catch (e) {
    assert.ok(e instanceof BerthError, `not a BerthError: ${String(e)}`);
    return { err: e, events };
  } finally {
    s.done();
  }
}

test('the connection dropped mid-stream: exit 10 and what to do, not "aborted"', async () => {
  const { err, events } = await lostError((res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write('{"type":"step","step":"pull"}\n{"type":"step","ste');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  assert.deepEqual(events, ['step']);
  assert.equal(err.code, 'unavailable');
  assert.equal(err.exitCode, 10);
  assert.equal(err.message, LOST_DAEMON_DEPLOY);
  assert.equal(err.message, 'lost the daemon; it restarts by itself; the deploy is rolled back or finished: see berth status');
});

test('the stream ended without a result: the same', async () => {
  const { err } = await lostError((res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end('{"type":"step","step":"pull"}\n');
  });
  assert.equal(err.exitCode, 10);
  assert.equal(err.message, LOST_DAEMON_DEPLOY);
});

test('an error the daemon reports in the stream stays that error', async () => {
  const { err } = await lostError((res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end('{"type":"error","error":{"code":"unhealthy","message":"release v2 did not become healthy"}}\n');
  });
  assert.equal(err.code, 'unhealthy');
});
