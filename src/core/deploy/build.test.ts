// A deploy that builds from source, on the fake runtime: the build comes before any release row,
// so a failed or cancelled build changes nothing; a built release records the image id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BerthError } from '../../lib/errors.js';
import { createApp } from '../apps/apps.js';
import { type Core, fakeCore, noEvents } from '../testing.js';
import { abort, deploy } from './engine.js';
import type { DeployEvent } from './execute.js';

const SRC = { context: '/src/app', args: { A: '1' }, target: 'prod' };

async function withLive(): Promise<Core> {
  const core = fakeCore();
  core.rt.addImage('registry.test/app:1');
  await createApp(core.ctx, { name: 'app', domains: ['app.test'], services: [] }, 'tester');
  await deploy(core.ctx, { app: 'app', kind: 'deploy', image: 'registry.test/app:1', actor: 'tester' }, noEvents);
  return core;
}

test('a built release runs the built image, by id, and says where it came from', async () => {
  const c = await withLive();
  const events: DeployEvent[] = [];
  const r = await deploy(c.ctx, { app: 'app', kind: 'deploy', build: SRC, actor: 'tester' }, (e) => events.push(e));
  assert.equal(r.release, 'v2');
  assert.deepEqual(c.rt.builder.builds, [{ app: 'app', ...SRC }]);
  const v2 = c.ctx.store.releasesOf('app')[0]!;
  assert.equal(v2.image, 'berth/app:build-fake1');
  assert.equal(v2.image_id, c.rt.images.get('berth/app:build-fake1')!.id);
  assert.equal(v2.note, 'built from /src/app');
  // the build's log reaches the deploy's event stream, before the plan
  const kinds = events.map((e) => (e.type === 'step' ? `${e.step}.${e.state}` : e.type));
  assert.deepEqual(kinds.slice(0, 4), ['build.started', 'progress', 'build.done', 'plan']);
});

test('a failed build changes nothing: no release row, the live one serves, the step output is in the error', async () => {
  const c = await withLive();
  c.rt.builder.failNext = 'Step 2/2 : RUN make\nmake: *** [all] Error 2';
  const err = await deploy(c.ctx, { app: 'app', kind: 'deploy', build: SRC, actor: 'tester' }, noEvents)
    .then(() => assert.fail('deployed'), (e: BerthError) => e);
  assert.equal(err.code, 'command_failed');
  assert.match(err.message, /^deploy #\d+ of app failed: build failed/);
  assert.match(err.hint!, /^v1 keeps serving; fix the step above/);
  assert.deepEqual((err.details as { logs: string[] }).logs, ['Step 2/2 : RUN make', 'make: *** [all] Error 2']);
  assert.deepEqual(c.ctx.store.releasesOf('app').map((r) => `${r.seq}:${r.state}`), ['1:live']);
  assert.equal(c.ctx.store.deploysOf('app')[0]!.state, 'failed');
  assert.equal(c.ctx.store.getLock('app'), undefined);
  assert.ok(c.ctx.store.auditLog('app', 10).some((a) => a.result === 'failed'));
});

test('an abort cancels a build that is running', async () => {
  const c = await withLive();
  c.rt.builder.hold = new Promise(() => undefined);
  const running = deploy(c.ctx, { app: 'app', kind: 'deploy', build: SRC, actor: 'tester' }, noEvents);
  await new Promise((r) => setTimeout(r, 20));
  abort(c.ctx, 'app', 'tester');
  const err = await running.then(() => assert.fail('deployed'), (e: BerthError) => e);
  assert.equal(err.code, 'aborted');
  assert.deepEqual(c.ctx.store.releasesOf('app').map((r) => r.seq), [1]);
});

test('a dry run names the build without building; an image and a build together are refused', async () => {
  const c = await withLive();
  const r = await deploy(c.ctx, { app: 'app', kind: 'deploy', build: SRC, dryRun: true, actor: 'tester' }, noEvents);
  assert.match(r.steps![0]!, /^build the image from \/src\/app \(Dockerfile, target prod, build args A\)$/);
  assert.match(r.steps![1]!, /^pull berth\/app:build-\(hash of the source\)/);
  assert.deepEqual(c.rt.builder.builds, []);
  await assert.rejects(deploy(c.ctx, { app: 'app', kind: 'deploy', build: SRC, image: 'x:1', actor: 'tester' }, noEvents),
    /give an image or a build, not both/);
});
