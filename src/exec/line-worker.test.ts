import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineWorker } from './line-worker.js';

// A worker that answers each JSON line with its pid and the value; "crash" exits, "hang" never
// answers, "garble" answers with a line that is not JSON.
const ECHO = `require('readline').createInterface({ input: process.stdin }).on('line', (l) => {
  const v = JSON.parse(l);
  if (v === 'crash') { process.stderr.write('boom'); process.exit(3); }
  if (v === 'garble') process.stdout.write('{half\\n');
  else if (v !== 'hang') process.stdout.write(JSON.stringify({ pid: process.pid, v }) + '\\n');
});`;
interface Echo { pid: number; v: string }
const worker = (idleMs = 5_000) => new LineWorker([process.execPath, '-e', ECHO], idleMs);
const ask = (w: LineWorker, v: string, timeoutMs = 5_000) => w.request<Echo>(v, timeoutMs);
const pidOf = (reply: Echo) => reply.pid;

test('one warm process answers requests in order, then exits after a quiet spell', async () => {
  const w = worker(200);
  const replies = await Promise.all(['a', 'b', 'c'].map((x) => ask(w, x)));
  assert.deepEqual(replies.map((r) => r.v), ['a', 'b', 'c']);
  assert.equal(new Set(replies.map(pidOf)).size, 1, 'not reused');
  const pid = pidOf(replies[0]!);
  await new Promise((r) => setTimeout(r, 600));
  assert.throws(() => process.kill(pid, 0), /ESRCH/, 'still running after the idle time');
  const again = await ask(w, 'd');
  assert.notEqual(pidOf(again), pid);
});

test('a crash fails the request with the worker\'s stderr; the next request starts a new one', async () => {
  const w = worker();
  const first = pidOf(await ask(w, 'x'));
  await assert.rejects(ask(w, 'crash'), /exited \(3\): boom/);
  assert.notEqual(pidOf(await ask(w, 'y')), first);
});

test('a request that takes too long kills the worker and fails', async () => {
  const w = worker();
  await assert.rejects(ask(w, 'hang', 300), /exited \(SIGKILL\)/);
  assert.equal((await ask(w, 'z')).v, 'z');
});

test('a reply that is not JSON fails the request and the worker goes; the next request starts a new one', async () => {
  const w = worker();
  const first = pidOf(await ask(w, 'x'));
  await assert.rejects(ask(w, 'garble'), /exited \(SIGKILL\).*not a JSON reply/s);
  assert.notEqual(pidOf(await ask(w, 'y')), first);
});
