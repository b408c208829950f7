// The deploy engine's failure and crash rules, on the fake runtime and proxy (which pass the
// contract suites their real drivers pass): every step failing, every crash point, abort,
// deadlines, and operations meeting each other or a release in trouble. kamal-proxy's rule
// throughout: a failed deploy leaves the old state untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BerthError } from '../../lib/errors.js';
import { createApp, listApps } from '../apps/apps.js';
import { type Core, fakeCore, noEvents } from '../testing.js';
import { abort, type DeployEvent, deploy, rollback } from './engine.js';
import { reconcile, recoverDeploys } from './recover.js';

const IMG1 = 'registry.test/app:1';
const IMG2 = 'registry.test/app:2';

async function withLive(settings = {}): Promise<Core> {
  const core = fakeCore(settings);
  core.rt.addImage(IMG1);
  core.rt.registry.set(IMG2, { id: `sha256:${'2'.repeat(64)}`, digest: null });
  await createApp(core.ctx, { name: 'app', domains: ['app.test'], services: [] }, 'tester');
  await deploy(core.ctx, { app: 'app', kind: 'deploy', image: IMG1, actor: 'tester' }, noEvents);
  return core;
}

const releases = (c: Core) => c.ctx.store.releasesOf('app').map((r) => `${r.seq}:${r.state}`);
const serving = (c: Core) => [...c.rt.units.values()].filter((u) => u.serving).map((u) => u.release);
const unitsOf = (c: Core) => [...c.rt.units.values()].map((u) => u.release).sort();

/** The old state untouched: v1 live and serving, nothing left of the failed release, lock free. */
async function assertUntouched(c: Core, failed: string) {
  assert.deepEqual(serving(c), ['v1']);
  assert.deepEqual(c.ctx.store.releasesOf('app').filter((r) => r.state === 'live').map((r) => r.seq), [1]);
  assert.ok(!unitsOf(c).includes(failed), `the failed release ${failed} left a unit`);
  assert.equal(c.ctx.store.getLock('app'), undefined);
  assert.deepEqual(c.ctx.store.runningDeploys(), []);
  // and the next deploy is not blocked
  await deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents);
}

test('a deploy makes the new release live and keeps the old one warm', async () => {
  const c = await withLive();
  const r = await deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, actor: 'tester' }, noEvents);
  assert.equal(r.release, 'v2');
  assert.deepEqual(releases(c), ['2:live', '1:warm']);
  assert.deepEqual(serving(c), ['v2']);
  assert.deepEqual(unitsOf(c), ['v1', 'v2']);
});

const failures: [string, (c: Core) => void, Record<string, unknown>][] = [
  ['pull', () => undefined, { image: 'registry.test/missing:1' }],
  ['release command', () => undefined, { image: IMG2, releaseCommand: ['exit', '1', 'migration failed'] }],
  ['start', (c) => c.rt.failNext('start'), { image: IMG2 }],
  ['health', (c) => { c.rt.health = (u) => (u.release === 'v2' ? 500 : 200); }, { image: IMG2, timeoutMs: 300 }],
  ['route (a new port)', (c) => { c.proxy.failNext = 'refused'; }, { image: IMG2, port: 3000 }],
  ['first half of the switch', (c) => c.rt.failNext('activate.park'), { image: IMG2 }],
  ['second half of the switch', (c) => c.rt.failNext('activate.name'), { image: IMG2 }],
];

for (const [step, arrange, req] of failures) {
  test(`a failure at ${step} leaves the old release serving and nothing of the new one`, async () => {
    const c = await withLive();
    arrange(c);
    await assert.rejects(deploy(c.ctx, { app: 'app', kind: 'deploy', actor: 'tester', ...req }, noEvents),
      (e: BerthError) => /keeps serving|not touched/.test(e.hint ?? ''));
    assert.equal(c.ctx.store.releaseBySeq('app', 2)?.state, 'failed');
    c.rt.health = () => 200;
    await assertUntouched(c, 'v2');
  });
}

// The proxy caches a lookup for one refresh from its answer: the wait after a switch counts from
// when the release before lost the serving name, so a slow second half of the switch is not waited for twice.
test('the settle after a switch counts from when the release before lost its name', async () => {
  const c = await withLive({ upstream_refresh_ms: 25 }); // settle: 25 + 15 ms
  const settleOf = async (req: Record<string, unknown>) => {
    const events: DeployEvent[] = [];
    await deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester', ...req }, (e) => events.push(e));
    const done = events.find((e) => e.type === 'step' && e.step === 'settle' && e.state === 'done');
    return Number(/^(\d+) ms after the switch$/.exec((done as { detail?: string } | undefined)?.detail ?? '')?.[1] ?? NaN);
  };
  assert.ok(await settleOf({}) >= 25, 'a switch with a quick second half waits out the refresh');
  const activate = c.rt.activate.bind(c.rt);
  // the new release's rename (the second half) now takes 100 ms after the old one's name moved
  c.rt.activate = (u, between) => activate(u, async () => { await between?.(); await new Promise((r) => setTimeout(r, 100)); });
  assert.equal(await settleOf({}), 0, 'the refresh passed during the second half');
});

test('a deploy with a new port that fails at the switch puts the route back on the old port', async () => {
  const c = await withLive();
  c.rt.failNext('activate.name');
  await assert.rejects(deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, port: 3000, actor: 'tester' }, noEvents));
  assert.equal(c.proxy.live.get('berth-app-app')?.port, 8000, 'the route still points at the new port');
  await assertUntouched(c, 'v2');
});

// The runtime switched, the state does not say so yet (the record failed: a full disk, say):
// the release before takes its name back, and only then does the new one go.
test('a failure between the runtime\'s switch and its record puts the old release back before removing the new one', async () => {
  const c = await withLive();
  c.ctx.hooks.pauseAt = 'switch.renamed';
  c.ctx.hooks.resume = async () => { throw new Error('disk I/O error'); };
  await assert.rejects(deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, actor: 'tester' }, noEvents), /disk I\/O error/);
  c.ctx.hooks.pauseAt = undefined;
  await assertUntouched(c, 'v2');
});

test('when the release before cannot take its name back, the new one keeps it until the reconcile puts the live release back', async () => {
  const c = await withLive();
  c.ctx.hooks.pauseAt = 'switch.renamed';
  c.ctx.hooks.resume = async () => { c.rt.failNext('activate.park'); throw new Error('disk I/O error'); };
  const e = await deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, actor: 'tester' }, noEvents).catch((x: BerthError) => x);
  assert.match((e as BerthError).message, /disk I\/O error/);
  assert.match(JSON.stringify((e as BerthError).details?.warnings), /giving v1 its name back/);
  c.ctx.hooks.pauseAt = undefined;
  assert.deepEqual(serving(c), ['v2'], 'nothing serves: the release holding the name was removed');
  assert.equal(c.ctx.store.releaseBySeq('app', 2)?.state, 'failed');
  await reconcile(c.ctx);
  await assertUntouched(c, 'v2');
});

test('a failure once the state says the new release is live undoes nothing', async () => {
  const c = await withLive();
  const finish = c.ctx.store.finishDeploy.bind(c.ctx.store);
  c.ctx.store.finishDeploy = (...a: Parameters<typeof finish>) => {
    if (a[1] === 'succeeded') throw new Error('disk I/O error');
    return finish(...a);
  };
  await assert.rejects(deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, actor: 'tester' }, noEvents), /v2 is live, but recording/);
  c.ctx.store.finishDeploy = finish;
  assert.deepEqual(serving(c), ['v2']);
  assert.deepEqual(releases(c), ['2:live', '1:warm']);
});

test('a failure after the switch is a warning: the new release serves', async () => {
  const c = await withLive({ keep_releases: 1 });
  await deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents); // v2 live, v1 warm
  c.rt.failNext('remove'); // pruning v1's container, after the switch to v3
  const r = await deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, actor: 'tester' }, noEvents);
  assert.deepEqual(serving(c), ['v3']);
  assert.match(r.warnings.join(';'), /prune: remove failed/);
});

// The daemon dies at each step (the hook pauses there forever); a new daemon on the same state
// and runtime resolves the deploy: rolled back before the runtime switched, finished after (once
// the new release serves, even if the state did not say so yet).
const crashes: [string, 'v1' | 'v2', Record<string, unknown>?][] = [
  ['pull', 'v1'], ['release_command', 'v1'], ['start', 'v1'], ['health', 'v1'], ['route', 'v1', { port: 3000 }], ['switch', 'v1'],
  ['switch.mid', 'v1'], ['switch.renamed', 'v2'], ['settle', 'v2'], ['retire', 'v2'],
];
for (const [step, after, req = {}] of crashes) {
  test(`the daemon dies at ${step}: a new one ${after === 'v1' ? 'rolls the deploy back' : 'finishes it'}, and the app serves ${after}`, async () => {
    const first = await withLive();
    await deploy(first.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents); // v2 live, v1 warm: a retire step has work
    const c = first.restart({ pauseAt: step });
    let paused = false;
    c.ctx.hooks.onPause = () => { paused = true; };
    void deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, actor: 'tester', releaseCommand: ['exit', '0'], ...req }, noEvents);
    for (let i = 0; i < 200 && !paused; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(paused, `the deploy never reached ${step}`);
    const next = c.restart();
    await recoverDeploys(next.ctx);
    await reconcile(next.ctx);
    const want = after === 'v1' ? 'v2' : 'v3'; // the release that served before, or the new one
    assert.deepEqual(serving(next), [want]);
    const live = next.ctx.store.releasesOf('app').filter((r) => r.state === 'live').map((r) => `v${r.seq}`);
    assert.deepEqual(live, [want]);
    const wanted = next.ctx.store.releasesOf('app').filter((r) => r.state === 'live' || r.state === 'warm').map((r) => `v${r.seq}`).sort();
    assert.deepEqual(unitsOf(next), wanted, 'the units are not exactly the live and warm releases');
    assert.deepEqual(next.ctx.store.runningDeploys(), []);
    await deploy(next.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents);
  });
}

test('the daemon dies while a release command runs: the next one stops and removes the one-off, the deploy is rolled back', async () => {
  const c = (await withLive()).restart();
  void deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, actor: 'tester', releaseCommand: ['sleep', '600000'] }, noEvents);
  for (let i = 0; i < 200 && !c.rt.oneOffs.size; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(c.rt.oneOffs.size, 1, 'the release command never ran');
  const next = c.restart(); // the first daemon is dead: nothing of it acts again
  const r = await recoverDeploys(next.ctx);
  assert.deepEqual([...next.rt.oneOffs.keys()], [], 'the release command runs on after its deploy was rolled back');
  assert.equal(r.oneOffs.length, 1);
  assert.equal(r.rolledBack.length, 1);
  await assertUntouched(next, 'v2');
});

test('a first deploy that fails says that nothing serves yet, not that a previous release keeps serving', async () => {
  const c = fakeCore();
  c.rt.addImage(IMG1);
  await createApp(c.ctx, { name: 'app', domains: ['app.test'], services: [] }, 'tester');
  c.rt.health = () => 503;
  await assert.rejects(deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG1, actor: 'tester', timeoutMs: 50 }, noEvents),
    (e: BerthError) => /no release serving yet/.test(e.hint ?? '') && !/keeps serving/.test(e.hint ?? ''));
  const live = await withLive();
  live.rt.health = () => 503;
  await assert.rejects(deploy(live.ctx, { app: 'app', kind: 'config', actor: 'tester', timeoutMs: 50 }, noEvents),
    (e: BerthError) => /v1 keeps serving/.test(e.hint ?? ''));
});

test('abort reaches a pull that hangs: the deploy ends at once, aborted, and the old release serves', async () => {
  const c = await withLive();
  const release = c.rt.hold('ensureImage');
  const d = deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, actor: 'tester' }, noEvents);
  await new Promise((r) => setTimeout(r, 20));
  abort(c.ctx, 'app', 'tester');
  await assert.rejects(d, (e: BerthError) => e.code === 'aborted');
  release();
  assert.equal(c.ctx.store.deploysOf('app')[0]!.state, 'aborted');
  await assertUntouched(c, 'v2');
});

test('abort reaches a release command that runs long; a release command has its own deadline', async () => {
  const c = await withLive();
  const d = deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, releaseCommand: ['sleep', '60000'], actor: 'tester' }, noEvents);
  await new Promise((r) => setTimeout(r, 50));
  abort(c.ctx, 'app', 'tester');
  await assert.rejects(d, (e: BerthError) => e.code === 'aborted');
  const t0 = Date.now();
  await assert.rejects(deploy(c.ctx, {
    app: 'app', kind: 'deploy', image: IMG2, releaseCommand: ['sleep', '60000'], releaseTimeoutMs: 200, timeoutMs: 60_000, actor: 'tester',
  }, noEvents),
    (e: BerthError) => e.code === 'timeout');
  assert.ok(Date.now() - t0 < 5000, 'the release command ran past its own deadline (the health timeout is not its deadline)');
  await assertUntouched(c, 'v3');
});

test('abort reaches a health check that waits: the deploy ends, aborted, and the old release serves', async () => {
  const c = await withLive();
  c.rt.health = (u) => (u.release === 'v2' ? 503 : 200); // never healthy: the check waits for its deadline
  const d = deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, timeoutMs: 60_000, actor: 'tester' }, noEvents);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  abort(c.ctx, 'app', 'tester');
  await assert.rejects(d, (e: BerthError) => e.code === 'aborted');
  assert.ok(Date.now() - t0 < 2000, 'the abort waited for the health check\'s deadline');
  c.rt.health = () => 200;
  await assertUntouched(c, 'v2');
});

test('an abort once the new release serves changes nothing: the deploy finishes', async () => {
  const c = await withLive({ upstream_refresh_ms: 200 }); // the settle waits 215 ms
  const events: DeployEvent[] = [];
  const d = deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, actor: 'tester' }, (e) => {
    events.push(e);
    if (e.type === 'step' && e.step === 'settle' && e.state === 'started') abort(c.ctx, 'app', 'tester');
  });
  const r = await d;
  assert.equal(r.state, 'succeeded');
  assert.deepEqual(serving(c), ['v2']);
  assert.ok(events.some((e) => e.type === 'step' && e.step === 'settle' && e.state === 'done'), 'the settle did not finish');
});

test('a config change that waits behind a new-image deploy plans from what that deploy left', async () => {
  const c = await withLive();
  const release = c.rt.hold('probe'); // the new image's health check takes a while
  const first = deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, actor: 'tester' }, noEvents);
  await new Promise((r) => setTimeout(r, 20));
  const second = deploy(c.ctx, { app: 'app', kind: 'config', lockTimeoutMs: 5000, actor: 'tester' }, noEvents);
  await new Promise((r) => setTimeout(r, 50));
  release();
  await first;
  await second;
  const live = c.ctx.store.releasesOf('app').filter((r) => r.state === 'live');
  assert.deepEqual(live.map((r) => [r.seq, r.image]), [[3, IMG2]]);
  assert.equal(live[0]!.image_id, c.rt.images.get(IMG2)!.id);
});

test('a config change runs the live image id, not what its tag names now', async () => {
  const c = await withLive();
  const before = c.rt.images.get(IMG1)!.id;
  c.rt.addImage(IMG1); // the tag is re-pointed to another image
  await deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents);
  const v2 = c.ctx.store.releaseBySeq('app', 2)!;
  assert.equal(v2.image_id, before);
  assert.equal([...c.rt.units.values()].find((u) => u.release === 'v2')!.spec.image, before);
});

test('a rollback cancels the daemon\'s repair of a release that will not come up, and wins', async () => {
  const c = await withLive({ deploy_timeout_ms: 30_000 });
  await deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents); // v2 live, v1 warm
  const v2 = [...c.rt.units.values()].find((u) => u.release === 'v2')!;
  c.rt.crash(v2);
  c.rt.health = (u) => (u.release === 'v2' ? 503 : 200); // its restart never becomes healthy
  const repair = reconcile(c.ctx);
  await new Promise((r) => setTimeout(r, 100)); // the repair now waits for v2's health
  const t0 = Date.now();
  await rollback(c.ctx, { app: 'app', actor: 'tester' }, noEvents);
  assert.ok(Date.now() - t0 < 5000, 'the rollback waited for the repair to time out');
  await repair;
  assert.deepEqual(serving(c), ['v1']);
});

test('a live release that the runtime keeps restarting is reported, not raced, and a rollback replaces it', async () => {
  const c = await withLive();
  await deploy(c.ctx, { app: 'app', kind: 'config', actor: 'tester' }, noEvents);
  const v2 = [...c.rt.units.values()].find((u) => u.release === 'v2')!;
  c.rt.crash(v2, true);
  const starts = c.rt.calls.filter((x) => x === 'start').length;
  const report = await reconcile(c.ctx);
  assert.deepEqual(report.crashing, ['app v2']);
  assert.equal(c.rt.calls.filter((x) => x === 'start').length, starts, 'the reconcile started the crash-looping release itself');
  assert.match((await listApps(c.ctx))[0]!.status, /crash-looping/);
  await rollback(c.ctx, { app: 'app', actor: 'tester' }, noEvents);
  assert.deepEqual(serving(c), ['v1']);
  assert.equal((await listApps(c.ctx))[0]!.status, 'running');
});

test('the reconcile backs off a live release that keeps going down, and says so', async () => {
  const c = await withLive({ deploy_timeout_ms: 1000 });
  const v1 = [...c.rt.units.values()].find((u) => u.release === 'v1')!;
  c.rt.crash(v1);
  c.rt.health = () => 503;
  await reconcile(c.ctx); // restarts it once; it never becomes healthy
  const starts = c.rt.calls.filter((x) => x === 'start').length;
  await reconcile(c.ctx); // too soon for another attempt
  assert.equal(c.rt.calls.filter((x) => x === 'start').length, starts, 'restarted again without backing off');
  assert.equal(c.ctx.restarts.get('app')?.count, 1);
  assert.match(c.ctx.restarts.get('app')!.lastError ?? '', /health check/);
  const status = (await listApps(c.ctx)).find((a) => a.name === 'app')?.status ?? '';
  assert.match(status, /^down: restarted once, next attempt \d{4}-.*health check/);
});

test('a change made in the lock (a restore\'s database move): not while waiting for it, undone there when the deploy fails', async () => {
  const c = await withLive();
  let moved = false;
  const seen: boolean[] = [];
  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const probing = c.rt.hold('probe');
  const first = deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG2, actor: 'tester' }, noEvents);
  await tick(20);
  const migrating = c.rt.hold('runOnce');
  const move = { apply: () => { moved = true; }, undo: () => { moved = false; } };
  const second = deploy(c.ctx, { app: 'app', kind: 'config', lockTimeoutMs: 5000, actor: 'tester', inLock: move,
    releaseCommand: ['exit', '1', 'migration failed'] }, noEvents);
  await tick(50);
  assert.equal(moved, false, 'applied while another deploy held the lock');
  probing();
  await first;
  for (let i = 0; i < 100 && !moved; i++) await tick(10);
  assert.equal(moved, true, 'not applied once its deploy held the lock');
  const third = deploy(c.ctx, { app: 'app', kind: 'config', lockTimeoutMs: 5000, actor: 'tester',
    inLock: { apply: () => { seen.push(moved); }, undo: () => undefined } }, noEvents);
  await tick(30);
  migrating();
  await assert.rejects(second, /migration failed|release command/);
  await third;
  assert.deepEqual(seen, [false], 'the deploy waiting behind saw the failed one\'s change');
  assert.equal(moved, false);
});
