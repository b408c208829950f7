import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineWorker } from './line-worker.js';

// A worker that answers each line with its pid and the line; "crash" exits, "hang" never answers.
const ECHO = `require('readline').createInterface({ input: process.stdin }).on('line', (l) => {
  if (l === 'crash') { process.stderr.write('boom'); process.exit(3); }
  if (l !== 'hang') process.stdout.write(process.pid + ' ' + l + '\\n');
});`;
const worker = (idleMs = 5_000) => new LineWorker([process.execPath, '-e', ECHO], idleMs);
const pidOf = (reply: string) => Number(reply.split(' ')[0]);

test('one warm process answers requests in order, then exits after a quiet spell', async () => {
  const w = worker(200);
  const replies = await Promise.all(['a', 'b', 'c'].map((x) => w.request(x, 5_000)));
  assert.deepEqual(replies.map((r) => r.split(' ')[1]), ['a', 'b', 'c']);
  assert.equal(new Set(replies.map(pidOf)).size, 1, 'not reused');
  const pid = pidOf(replies[0]!);
  await new Promise((r) => setTimeout(r, 600));
  assert.throws(() => process.kill(pid, 0), /ESRCH/, 'still running after the idle time');
  const again = await w.request('d', 5_000);
  assert.notEqual(pidOf(again), pid);
});

test('a crash fails the request with the worker\'s stderr; the next request starts a new one', async () => {
  const w = worker();
  const first = pidOf(await w.request('x', 5_000));
  await assert.rejects(w.request('crash', 5_000), /exited \(3\): boom/);
  assert.notEqual(pidOf(await w.request('y', 5_000)), first);
});

test('a request that takes too long kills the worker and fails', async () => {
  const w = worker();
  await assert.rejects(w.request('hang', 300), /exited \(SIGKILL\)/);
  assert.match(await w.request('z', 5_000), / z$/);
});
