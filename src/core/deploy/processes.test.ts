// Releases with several processes, on the fake runtime: workers start beside the web process,
// must stay up before anything switches, the release before's workers stop only after the
// switch, a rollback brings back every process of its release, scale changes copies without a
// deploy, and the reconcile and the crash recovery know about workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BerthError } from '../../lib/errors.js';
import * as v from '../../lib/validate.js';
import { createApp } from '../apps/apps.js';
import { type Core, fakeCore, noEvents } from '../testing.js';
import { deploy, rollback } from './engine.js';
import { checkScale, describeProcesses, releaseProcesses } from './processes.js';
import { reconcile, recoverDeploys, retireExpired } from './recover.js';
import { scale } from './scale.js';

const IMG = 'registry.test/app:1';
const WORKER = { worker: { cmd: ['node', 'worker.js'] } };

async function withWorkers(): Promise<Core> {
  const c = fakeCore({ worker_up_ms: 20 });
  c.rt.addImage(IMG);
  await createApp(c.ctx, { name: 'app', domains: ['app.test'], services: [] }, 'tester');
  await deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG, actor: 'tester' }, noEvents); // v1: web only
  await deploy(c.ctx, { app: 'app', kind: 'config', processes: WORKER, actor: 'tester' }, noEvents); // v2: web and worker
  return c;
}

/** Running units as release/process.copy, sorted. */
const running = (c: Core) => [...c.rt.units.values()].filter((u) => u.running).map((u) => `${u.release}/${u.process}.${u.replica}`).sort();
/** Background drains finish, and the janitor stops the releases whose warm window a deploy ended. */
const settle = async (c: Core) => { await new Promise((r) => setTimeout(r, 10)); await retireExpired(c.ctx); };

test('a deploy starts the workers beside the web process, checks them, and makes them run for good', async () => {
  const c = await withWorkers();
  assert.deepEqual(running(c), ['v1/web.1', 'v2/web.1', 'v2/worker.1']);
  const w = [...c.rt.units.values()].find((u) => u.process === 'worker')!;
  assert.deepEqual(w.spec.cmd, ['node', 'worker.js']);
  assert.equal(w.promoted, true);
  const steps = c.ctx.store.stepsOf(c.ctx.store.deploysOf('app')[0]!.id).filter((s) => s.state === 'done').map((s) => s.step);
  assert.deepEqual(steps, ['pull', 'start', 'start_workers', 'health', 'check_workers', 'switch', 'settle']);
});

test("the release before's workers stop after the switch; a release keeps its processes without being told again", async () => {
  const c = await withWorkers();
  const events: string[] = [];
  await deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester' }, (e) => { if (e.type === 'plan') events.push(...e.steps); });
  await settle(c);
  assert.deepEqual(running(c), ['v2/web.1', 'v3/web.1', 'v3/worker.1']);
  assert.ok(events.some((s) => s.startsWith("stop v2's other processes")), events.join('\n'));
  assert.ok([...c.rt.units.values()].some((u) => u.release === 'v2' && u.process === 'worker' && !u.running), 'stopped, kept for its output');
});

test('a worker that exits right after its start fails the deploy before the switch: the old release and its worker go on', async () => {
  const c = await withWorkers();
  c.rt.health = (u) => {
    for (const x of c.rt.units.values()) if (x.release === 'v3' && x.process === 'worker') c.rt.crash(x);
    return u.running ? 200 : 'ECONNREFUSED';
  };
  const e = await deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents).catch((x: BerthError) => x);
  assert.match((e as BerthError).message, /worker \(copy 1\) of v3 exited with 1 within 20 ms/);
  assert.ok((e as BerthError).details?.logs, 'its output is shown');
  assert.deepEqual(running(c), ['v1/web.1', 'v2/web.1', 'v2/worker.1']);
  assert.ok(![...c.rt.units.values()].some((u) => u.release === 'v3'), 'nothing of v3 is left');
  assert.equal(c.ctx.store.getApp('app')!.live_release, c.ctx.store.releasesOf('app').find((r) => r.seq === 2)!.id);
});

test('a rollback brings back every process of its release, and stops those of the release it leaves', async () => {
  const c = await withWorkers();
  await deploy(c.ctx, { app: 'app', kind: 'config', processes: { worker: null, beat: { cmd: ['node', 'beat.js'] } }, actor: 'tester' }, noEvents);
  await settle(c);
  assert.deepEqual(running(c), ['v2/web.1', 'v3/beat.1', 'v3/web.1']);
  await rollback(c.ctx, { app: 'app', actor: 'tester' }, noEvents);
  await settle(c);
  assert.deepEqual(running(c), ['v2/web.1', 'v2/worker.1', 'v3/web.1']);
});

test('scale runs more or fewer copies of a worker without a deploy; the next deploy keeps the counts', async () => {
  const c = await withWorkers();
  const r = await scale(c.ctx, { app: 'app', processes: { worker: 3 }, actor: 'tester' });
  assert.equal(r.processes, 'web, worker x3');
  assert.deepEqual(running(c), ['v1/web.1', 'v2/web.1', 'v2/worker.1', 'v2/worker.2', 'v2/worker.3']);
  await deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents);
  await settle(c);
  assert.deepEqual(running(c), ['v2/web.1', 'v3/web.1', 'v3/worker.1', 'v3/worker.2', 'v3/worker.3']);
  await scale(c.ctx, { app: 'app', processes: { worker: 1 }, actor: 'tester' });
  await settle(c);
  assert.deepEqual(running(c), ['v2/web.1', 'v3/web.1', 'v3/worker.1']);
  await assert.rejects(scale(c.ctx, { app: 'app', processes: { web: 0 }, actor: 'tester' }), /web: serves the app's requests: it runs one copy at least/);
  await assert.rejects(scale(c.ctx, { app: 'app', processes: { beat: 1 }, actor: 'tester' }), /beat: is not a process of app's live release/);
});

test("the reconcile brings back a live release's worker that went away, and removes copies past the formation", async () => {
  const c = await withWorkers();
  const w = [...c.rt.units.values()].find((u) => u.process === 'worker')!;
  await c.rt.remove(w);
  const extra = await c.rt.start({ ...w.spec, replica: 2 });
  const report = await reconcile(c.ctx);
  assert.deepEqual(report.restarted, ['app v2 worker']);
  assert.deepEqual(report.removed, [extra.name]);
  assert.deepEqual(running(c), ['v1/web.1', 'v2/web.1', 'v2/worker.1']);
  assert.deepEqual((await reconcile(c.ctx)).restarted, [], 'settled');
});

test('a daemon that dies after starting the new workers, before the switch: recovery removes them, the old ones run on', async () => {
  const c = await withWorkers();
  const release = c.rt.hold('probe');
  const pending = deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents);
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(running(c).includes('v3/worker.1'));
  const after = c.restart(); // the daemon dies: the new one recovers
  const out = await recoverDeploys(after.ctx);
  assert.equal(out.rolledBack.length, 1);
  assert.deepEqual(running(c), ['v1/web.1', 'v2/web.1', 'v2/worker.1']);
  release();
  await pending.catch(() => 'the dead daemon\'s deploy: whatever it does next does not matter');
});

test('process names and requests are checked', () => {
  assert.equal(v.processName('celery-worker'), 'celery-worker');
  for (const bad of ['Worker', 'run', 'worker-v3', '-x', 'a_b', 'x'.repeat(31)]) assert.throws(() => v.processName(bad), /is not a process name/);
  assert.throws(() => releaseProcesses(null, '{}', { web: { cmd: ['x'] } }), /processes.web/);
  assert.throws(() => checkScale(null, 'app', { worker: 1 }), /no live release/);
  assert.throws(() => checkScale({ processes: '{"web":{},"worker":{}}' }, 'app', { worker: 21 }), /0 to 20/);
});

test('a release\'s processes read in listings with its serving process first, whatever its name', () => {
  const table = (t: Record<string, Record<string, unknown>>) => ({ processes: JSON.stringify(t) });
  assert.equal(describeProcesses(table({ web: {}, worker: {} }), { worker: 2 }), 'web, worker x2');
  assert.equal(describeProcesses(table({ api: { primary: true, port: 8000 }, worker: {} }), { api: 3 }), 'api x3, worker');
  assert.equal(describeProcesses(table({ worker: {} }), {}), 'worker', 'a release with no serving process');
});

test('a worker that cannot be started fails the deploy before the switch: nothing of the new release is left', async () => {
  const c = await withWorkers();
  c.rt.failNext('start.worker', 'no space left on device');
  await assert.rejects(deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents), /no space left on device/);
  assert.deepEqual(running(c), ['v1/web.1', 'v2/web.1', 'v2/worker.1']);
  assert.ok(![...c.rt.units.values()].some((u) => u.release === 'v3'), 'the new release\'s web process was left');
  assert.equal(c.ctx.store.releaseBySeq('app', 3)?.state, 'failed');
});

test('stopping the release before\'s workers is after the switch: a failure there is a warning, the new release serves', async () => {
  const c = await withWorkers();
  c.rt.failNext('stop', 'the engine did not answer');
  const r = await deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents);
  assert.equal(r.release, 'v3');
  assert.equal(c.ctx.store.releasesOf('app').find((x) => x.state === 'live')?.seq, 3);
  await settle(c);
  assert.ok(running(c).includes('v3/worker.1'), running(c).join(', '));
});
