// Deploys of an app's description (berth.yml), on the fake runtime and proxy: every process it
// names runs with its own image, command and env; a process a route goes to is health-checked
// and switched by its own name; a failure of any of them leaves the release before serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BerthError } from '../../lib/errors.js';
import { createApp } from '../apps/apps.js';
import { changeConfig } from '../config/config.js';
import { specFromBody } from '../spec/from-body.js';
import { type Core, fakeCore, noEvents } from '../testing.js';
import { deploy, rollback } from './engine.js';
import { reconcile } from './recover.js';
import { sitesOf } from './execute.js';
import { specOf } from './release-spec.js';

const BACKEND = 'registry.test/backend:1';
const FRONTEND = 'registry.test/frontend:1';

const towlion = (over: Record<string, unknown> = {}) => ({
  image: BACKEND,
  processes: {
    web: { port: 8000, health: '/health', env: { ROLE: 'api' } },
    worker: { command: 'celery -A app.tasks worker', replicas: 2, stop_grace_period: '30s' },
    frontend: { image: FRONTEND, port: 3000, health: '/' },
  },
  routes: { '/': 'frontend', '/api/*': 'web' },
  release: 'alembic upgrade head',
  env: { LOG_LEVEL: 'info' },
  cron: { cleanup: { schedule: '0 3 * * *', command: 'python -m app.cleanup' } },
  ...over,
});

async function app(): Promise<Core> {
  const c = fakeCore({ worker_up_ms: 20 });
  c.rt.addImage(BACKEND);
  c.rt.addImage(FRONTEND);
  await createApp(c.ctx, { name: 'uku', domains: ['uku.test'], services: [] }, 'tester');
  return c;
}

const specDeploy = (c: Core, doc: Record<string, unknown>) =>
  deploy(c.ctx, { app: 'uku', kind: 'deploy', spec: specFromBody(doc), specDir: '/src/uku', actor: 'tester' }, noEvents);

const running = (c: Core) => [...c.rt.units.values()].filter((u) => u.running)
  .map((u) => `${u.release} ${u.process}${u.replica > 1 ? ` ${u.replica}` : ''}${u.serving ? ' serving' : ''}`).sort();

test('every process of the description runs: its image, command and env; the routed one is switched by its own name', async () => {
  const c = await app();
  // the release command is the fake runtime's "exit 0": its image and env are checked below
  const r = await specDeploy(c, towlion({ release: ['exit', '0'] }));
  assert.equal(r.release, 'v1');
  assert.deepEqual(running(c), ['v1 frontend serving', 'v1 web serving', 'v1 worker', 'v1 worker 2']);
  const units = [...c.rt.units.values()];
  const spec = (p: string) => units.find((u) => u.process === p)!.spec;
  // each pinned to the id of the image its reference named at the deploy
  assert.equal(spec('frontend').image, c.rt.images.get(FRONTEND)!.id);
  assert.equal(spec('web').image, c.rt.images.get(BACKEND)!.id);
  assert.notEqual(spec('web').image, spec('frontend').image);
  assert.deepEqual(spec('worker').cmd, ['celery', '-A', 'app.tasks', 'worker']);
  assert.equal(spec('web').env.ROLE, 'api');
  assert.equal(spec('web').env.LOG_LEVEL, 'info');
  assert.equal(spec('worker').env.ROLE, undefined, 'a process env leaked into another process');
  assert.equal(spec('frontend').port, 3000);
  const release = c.ctx.store.releasesOf('uku')[0]!;
  assert.deepEqual(Object.keys(specOf(release).cron ?? {}), ['cleanup'], 'the release does not keep its cron jobs');
  assert.equal(release.port, 8000);
});

test("the app's config wins over the file's env; a redeploy replaces every process, a rollback brings each back", async () => {
  const c = await app();
  await specDeploy(c, towlion({ release: undefined }));
  await changeConfig(c.ctx, 'uku', { set: { LOG_LEVEL: 'debug' }, deploy: false, actor: 'tester' }, noEvents);
  await specDeploy(c, towlion({ release: undefined, processes: { web: { port: 8000 }, frontend: { image: FRONTEND, port: 3000 } } }));
  assert.deepEqual(running(c).filter((u) => u.startsWith('v2')), ['v2 frontend serving', 'v2 web serving']);
  assert.ok(!running(c).some((u) => u.includes('worker')), 'the worker the file no longer names still runs');
  const web2 = [...c.rt.units.values()].find((u) => u.release === 'v2' && u.process === 'web')!;
  assert.equal(web2.spec.env.LOG_LEVEL, 'debug');
  await rollback(c.ctx, { app: 'uku', actor: 'tester' }, noEvents);
  assert.deepEqual(running(c).filter((u) => u.startsWith('v1')), ['v1 frontend serving', 'v1 web serving', 'v1 worker', 'v1 worker 2']);
});

test('a routed process that fails its health check fails the deploy before the switch: the release before serves on', async () => {
  const c = await app();
  await specDeploy(c, towlion({ release: undefined }));
  c.rt.health = (u) => (u.release === 'v2' && u.process === 'frontend' ? 503 : 200);
  c.ctx.settings.deploy_timeout_ms = 300;
  const e = await specDeploy(c, towlion({ release: undefined })).then(() => null, (x: BerthError) => x);
  assert.ok(e, 'the deploy passed');
  assert.match(e.message, /health/);
  assert.deepEqual(running(c).filter((u) => u.includes('serving')), ['v1 frontend serving', 'v1 web serving']);
  assert.ok(!running(c).some((u) => u.startsWith('v2')), 'the failed release left a unit running');
  assert.equal(c.ctx.store.releasesOf('uku')[0]!.state, 'failed');
});

test('a failing release command stops the deploy before anything starts, with its output', async () => {
  const c = await app();
  await specDeploy(c, towlion({ release: undefined }));
  const e = await specDeploy(c, towlion({ release: ['exit', '2', 'alembic: no such revision'] })).then(() => null, (x: BerthError) => x);
  assert.ok(e);
  assert.match(e.message, /release command exited with 2/);
  assert.match(JSON.stringify(e.details), /no such revision/);
  assert.deepEqual(running(c).filter((u) => u.includes('serving')), ['v1 frontend serving', 'v1 web serving']);
});

test('a crash between the switch of web and of a routed process is finished by the reconcile', async () => {
  const c = await app();
  await specDeploy(c, towlion({ release: undefined }));
  const units = () => [...c.rt.units.values()];
  // web switches, then the frontend's switch fails: a warning, not a failure
  let failedOnce = false;
  const orig = c.rt.activate.bind(c.rt);
  c.rt.activate = async (u, between) => {
    if (u.process === 'frontend' && u.release === 'v2' && !failedOnce) {
      failedOnce = true;
      throw new Error('engine went away');
    }
    return orig(u, between);
  };
  const r = await specDeploy(c, towlion({ release: undefined }));
  assert.equal(r.release, 'v2');
  assert.ok(units().some((u) => u.release === 'v1' && u.process === 'frontend' && u.serving), 'v1 frontend should still hold the name');
  await reconcile(c.ctx);
  assert.deepEqual(running(c).filter((u) => u.includes('serving')), ['v2 frontend serving', 'v2 web serving']);
});

// (web with no copy is refused by the schema: spec/schema.test.ts)
test('a description with replicas of a routed process beside web is refused before anything runs', async () => {
  const c = await app();
  const docs = [{ image: BACKEND, processes: { web: {}, frontend: { image: FRONTEND, port: 3000, replicas: 2 } }, routes: { '/': 'frontend' } }];
  for (const doc of docs) {
    const e = await specDeploy(c, doc).then(() => null, (x: BerthError) => x);
    assert.ok(e);
    assert.match(e.message, /one copy/);
  }
  assert.deepEqual(c.ctx.store.releasesOf('uku'), []);
});

test("a config change runs the live release's release command again, with the new env; a deploy that names none keeps none", async () => {
  const c = await app();
  const ran: string[] = [];
  const orig = c.rt.runOnce.bind(c.rt);
  c.rt.runOnce = (spec, cmd, o) => { ran.push(`${spec.release} ${cmd.join(' ')} LOG_LEVEL=${spec.env.LOG_LEVEL}`); return orig(spec, cmd, o); };
  await specDeploy(c, towlion({ release: ['exit', '0', 'migrated'] }));
  await changeConfig(c.ctx, 'uku', { set: { LOG_LEVEL: 'debug' }, deploy: true, actor: 'tester' }, noEvents);
  assert.deepEqual(ran, ['v1 exit 0 migrated LOG_LEVEL=info', 'v2 exit 0 migrated LOG_LEVEL=debug']);
  await deploy(c.ctx, { app: 'uku', kind: 'deploy', image: BACKEND, actor: 'tester' }, noEvents);
  await changeConfig(c.ctx, 'uku', { set: { LOG_LEVEL: 'warn' }, deploy: true, actor: 'tester' }, noEvents);
  assert.equal(ran.length, 2, `a release command ran without being named: ${ran.join('; ')}`);
  await deploy(c.ctx, { app: 'uku', kind: 'deploy', image: BACKEND, actor: 'tester', releaseCommand: ['exit', '0', 'cli'] }, noEvents);
  await changeConfig(c.ctx, 'uku', { set: { LOG_LEVEL: 'error' }, deploy: true, actor: 'tester' }, noEvents);
  assert.deepEqual(ran.slice(2), ['v5 exit 0 cli LOG_LEVEL=warn', 'v6 exit 0 cli LOG_LEVEL=error']);
});

// A config change ships the live release's files, not what the site image's tag names by then.
test('a config change serves the live release\'s static files, not what the site image\'s tag names now', async () => {
  const c = await app();
  const SITE = 'registry.test/site:1';
  const first = c.rt.addImage(SITE, undefined, { '/dist/index.html': 'one' });
  await specDeploy(c, { static: { image: SITE, root: '/dist' } });
  c.rt.addImage(SITE, undefined, { '/dist/index.html': 'two' }); // the tag is re-pointed to other files
  await changeConfig(c.ctx, 'uku', { set: { COLOR: 'blue' }, deploy: true, actor: 'tester' }, noEvents);
  const v2 = c.ctx.store.releaseBySeq('uku', 2)!;
  assert.equal(v2.state, 'live');
  assert.equal(specOf(v2).site?.image, first.id, 'the release records the image id its files came from');
  assert.equal(readFileSync(join(sitesOf(c.ctx).servedDir('uku'), 'index.html'), 'utf8'), 'one');
});

test('a static site whose files cannot be copied out fails the deploy before the switch: the release before serves its own', async () => {
  const c = await app();
  const SITE = 'registry.test/site:1';
  c.rt.addImage(SITE, undefined, { '/dist/index.html': 'one' });
  await specDeploy(c, { static: { image: SITE, root: '/dist' } });
  const SITE2 = 'registry.test/site:2';
  c.rt.addImage(SITE2, undefined, { '/dist/index.html': 'two' });
  c.rt.failNext('exportDir', 'no space left on device');
  await assert.rejects(specDeploy(c, { static: { image: SITE2, root: '/dist' } }), /no space left on device/);
  assert.equal(c.ctx.store.releaseBySeq('uku', 2)?.state, 'failed');
  assert.equal(c.ctx.store.releasesOf('uku').find((r) => r.state === 'live')?.seq, 1);
  assert.equal(readFileSync(join(sitesOf(c.ctx).servedDir('uku'), 'index.html'), 'utf8'), 'one');
});

test('--release-timeout given with a deploy of a description bounds the release command the file names', async () => {
  const c = await app();
  await assert.rejects(deploy(c.ctx, {
    app: 'uku', kind: 'deploy', spec: specFromBody(towlion({ release: 'sleep 400' })), specDir: '/src/uku', releaseTimeoutMs: 100, actor: 'tester',
  }, noEvents), (e: BerthError) => e.code === 'timeout');
  assert.equal(c.ctx.store.releaseBySeq('uku', 1)?.state, 'failed');
});
