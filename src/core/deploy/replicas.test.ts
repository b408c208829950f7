// Several copies of web, on the fake runtime and proxy: `berth scale APP web=N` without a deploy
// (new copies health-checked and named before the route lists them, copies taken away out of the
// route before they stop), a deploy and a rollback that switch every copy by name without a
// config change, and the reconcile keeping N copies serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Unit } from '../../runtime/types.js';
import { createApp } from '../apps/apps.js';
import { type Core, fakeCore, noEvents } from '../testing.js';
import { deploy, rollback } from './engine.js';
import { checkCopies, copiesToReplace, FAILS_IN_A_ROW } from './copy-health.js';
import { reconcile } from './recover.js';
import { scale } from './scale.js';

const IMG = 'registry.test/app:1';

async function withApp(): Promise<Core> {
  const c = fakeCore({ worker_up_ms: 20, upstream_refresh_ms: 20 });
  c.rt.addImage(IMG);
  await createApp(c.ctx, { name: 'app', domains: ['app.test'], services: [] }, 'tester');
  await deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG, actor: 'tester' }, noEvents);
  return c;
}

/** Which release holds each copy's serving name: copy -> release. */
const serving = (c: Core) => Object.fromEntries([...c.rt.units.values()].filter((u) => u.serving && u.running)
  .map((u) => [u.name, u.release] as const).sort());
const running = (c: Core) => [...c.rt.units.values()].filter((u) => u.running).map((u) => `${u.release}/${u.process}.${u.replica}`).sort();
const upstreams = (c: Core) => { const r = c.proxy.live.get('berth-app-app')!; return r.upstreams ?? [r.upstream]; };
const name = (c: Core, i: number) => c.rt.servingName('app', 'web', i);
const drained = () => new Promise((r) => setTimeout(r, 30));

test('scale web up: each new copy is health-checked and holds its own name before the route lists it', async () => {
  const c = await withApp();
  const changes = c.proxy.changes;
  const probes: string[] = [];
  c.rt.health = (u) => { probes.push(`${u.replica}:${upstreams(c).length}`); return 200; };
  const r = await scale(c.ctx, { app: 'app', processes: { web: 3 }, actor: 'tester' });
  assert.equal(r.processes, 'web x3');
  assert.deepEqual(serving(c), { [name(c, 1)]: 'v1', [name(c, 2)]: 'v1', [name(c, 3)]: 'v1' });
  assert.deepEqual(upstreams(c), [name(c, 1), name(c, 2), name(c, 3)]);
  assert.equal(c.proxy.changes, changes + 1, 'one route change');
  assert.ok(probes.includes('2:1') && probes.includes('3:1'), `copies 2 and 3 were probed while the route listed one name: ${probes.join(' ')}`);
});

test('a new copy that fails its health check fails the scale: the copies started for it go, the route and counts stay', async () => {
  const c = await withApp();
  c.rt.health = (u) => (u.replica === 3 ? 500 : 200);
  c.ctx.settings.deploy_timeout_ms = 200;
  await assert.rejects(scale(c.ctx, { app: 'app', processes: { web: 3 }, actor: 'tester' }), /health/);
  assert.deepEqual(running(c), ['v1/web.1']);
  assert.deepEqual(upstreams(c), [name(c, 1)]);
  assert.equal(c.ctx.store.getApp('app')!.formation.includes('"web":3'), false);
});

test('scale web down: the route leaves the copies before they stop', async () => {
  const c = await withApp();
  await scale(c.ctx, { app: 'app', processes: { web: 3 }, actor: 'tester' });
  const stopped: string[] = [];
  const stop = c.rt.stop.bind(c.rt);
  c.rt.stop = async (u: Unit, graceMs: number) => { stopped.push(`${u.replica}:${upstreams(c).length}`); return stop(u, graceMs); };
  await scale(c.ctx, { app: 'app', processes: { web: 1 }, actor: 'tester' });
  await drained();
  assert.deepEqual(stopped.sort(), ['2:1', '3:1'], 'stopped once the route listed copy 1 alone');
  assert.deepEqual(running(c), ['v1/web.1']);
  assert.deepEqual(upstreams(c), [name(c, 1)]);
  assert.equal(c.proxy.live.get('berth-app-app')!.upstreams, undefined, 'the route of one copy is the one it always was');
  assert.deepEqual((await reconcile(c.ctx)).removed, [], 'nothing left over');
});

test('a deploy and a rollback with web=3 switch every copy by name and change no proxy config', async () => {
  const c = await withApp();
  await scale(c.ctx, { app: 'app', processes: { web: 3 }, actor: 'tester' });
  const changes = c.proxy.changes;
  const r = await deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents);
  assert.equal(r.release, 'v2');
  assert.deepEqual(serving(c), { [name(c, 1)]: 'v2', [name(c, 2)]: 'v2', [name(c, 3)]: 'v2' });
  assert.deepEqual(running(c), ['v1/web.1', 'v1/web.2', 'v1/web.3', 'v2/web.1', 'v2/web.2', 'v2/web.3'], 'v1 stays warm, all its copies');
  const t0 = Date.now();
  await rollback(c.ctx, { app: 'app', actor: 'tester' }, noEvents);
  assert.ok(Date.now() - t0 < 1000);
  assert.deepEqual(serving(c), { [name(c, 1)]: 'v1', [name(c, 2)]: 'v1', [name(c, 3)]: 'v1' });
  assert.equal(c.proxy.changes, changes, 'no config change for the deploy or the rollback');
  const steps = c.ctx.store.stepsOf(c.ctx.store.deploysOf('app')[0]!.id).map((s) => s.step);
  assert.ok(!steps.includes('start'), 'the rollback started nothing: v1\'s copies were warm');
  assert.deepEqual((await reconcile(c.ctx)).removed, []);
});

test('a deploy with web=3 is refused when one copy fails its health check: the live copies serve on', async () => {
  const c = await withApp();
  await scale(c.ctx, { app: 'app', processes: { web: 3 }, actor: 'tester' });
  c.rt.health = (u) => (u.release === 'v2' && u.replica === 2 ? 500 : 200);
  c.ctx.settings.deploy_timeout_ms = 200;
  await assert.rejects(deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester', timeoutMs: 200 }, noEvents), /health/);
  assert.deepEqual(serving(c), { [name(c, 1)]: 'v1', [name(c, 2)]: 'v1', [name(c, 3)]: 'v1' });
  assert.deepEqual(running(c), ['v1/web.1', 'v1/web.2', 'v1/web.3']);
});

test('a rollback to a release warm with fewer copies starts the ones it lacks, checks them, then switches all', async () => {
  const c = await withApp();
  await deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents); // v1 warm with one copy
  await scale(c.ctx, { app: 'app', processes: { web: 2 }, actor: 'tester' });
  await rollback(c.ctx, { app: 'app', actor: 'tester' }, noEvents);
  assert.deepEqual(serving(c), { [name(c, 1)]: 'v1', [name(c, 2)]: 'v1' });
});

test('the reconcile replaces a copy that died and gives it its name; a copy past the count goes', async () => {
  const c = await withApp();
  await scale(c.ctx, { app: 'app', processes: { web: 3 }, actor: 'tester' });
  const two = [...c.rt.units.values()].find((u) => u.replica === 2)!;
  await c.rt.remove(two);
  const three = [...c.rt.units.values()].find((u) => u.replica === 3)!;
  c.rt.crash(three);
  const report = await reconcile(c.ctx);
  assert.deepEqual(report.restarted.sort(), ['app v1 copy 2', 'app v1 copy 3']);
  assert.deepEqual(serving(c), { [name(c, 1)]: 'v1', [name(c, 2)]: 'v1', [name(c, 3)]: 'v1' });
  assert.deepEqual((await reconcile(c.ctx)).restarted, [], 'settled');
});

test('a copy failing its health check 3 times in a row is replaced by a fresh copy under its name; none is while every copy fails', async () => {
  const c = await withApp();
  await scale(c.ctx, { app: 'app', processes: { web: 3 }, actor: 'tester' });
  const sick = [...c.rt.units.values()].find((u) => u.name === name(c, 2))!;
  const changes = c.proxy.changes;
  c.rt.health = (u) => (u.id === sick.id ? 500 : 200);
  let t = Date.now();
  const pass = () => checkCopies(c.ctx, t += c.ctx.settings.copy_check_ms);
  for (let i = 1; i < FAILS_IN_A_ROW; i++) assert.deepEqual(await pass(), [], `replaced after ${i} failed probes`);
  assert.deepEqual(await checkCopies(c.ctx, t + 500), [], 'a check before the interval passed counted');
  assert.deepEqual(await pass(), ['app v1 copy 2']);
  const holder = [...c.rt.units.values()].find((u) => u.name === name(c, 2) && u.running)!;
  assert.notEqual(holder.id, sick.id, 'the copy\'s name went to a fresh copy');
  assert.deepEqual(serving(c), { [name(c, 1)]: 'v1', [name(c, 2)]: 'v1', [name(c, 3)]: 'v1' });
  await drained();
  assert.ok(!c.rt.units.get(sick.id)?.running, 'the replaced copy drained and went');
  assert.equal(c.proxy.changes, changes, 'a replacement changes no route');
  // the whole app failing is not a copy's fault: nothing is replaced, however long it lasts
  c.rt.health = () => 503;
  for (let i = 0; i < FAILS_IN_A_ROW + 2; i++) assert.deepEqual(await pass(), []);
});

test('which copies to replace: failures in a row only, a pass resets the count, and only while another copy passes', () => {
  let fails = new Map<string, number>();
  const round = (a: number | string, b: number | string) => {
    const r = copiesToReplace([{ id: 'a', status: a }, { id: 'b', status: b }], fails);
    fails = r.fails;
    return r.replace;
  };
  assert.deepEqual([round(500, 200), round('ECONNREFUSED', 200), round(200, 200), round(500, 200), round(500, 200)], [[], [], [], [], []]);
  assert.deepEqual(round(502, 301), ['a']);
  fails = new Map();
  assert.deepEqual([round(500, 500), round(500, 500), round(500, 500)], [[], [], []]);
  assert.deepEqual(round(500, 200), ['a'], 'its failures counted while the other failed too');
});
