// Kills for memory reach the operator: the audit (with the limit passed), berth status, and the
// error of a deploy whose release dies of it before its health check passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BerthError } from '../../lib/errors.js';
import { deploy } from '../deploy/engine.js';
import { fakeCore, noEvents } from '../testing.js';
import { createApp, listApps } from './apps.js';
import { watchOoms } from './oom.js';

const IMG = 'registry.test/app:1';

test('a live release killed for memory is in the audit with its limit, and in status', async () => {
  const c = fakeCore();
  c.rt.addImage(IMG);
  await createApp(c.ctx, { name: 'app', domains: ['app.test'], services: [], limits: { memory: 128 } }, 'tester');
  await deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG, actor: 'tester' }, noEvents);
  const watching = new AbortController();
  const done = watchOoms(c.ctx, watching.signal);
  await new Promise((r) => setImmediate(r));
  c.rt.oom([...c.rt.units.values()].find((u) => u.serving)!);
  const entry = c.ctx.store.lastAudit('app', 'app.oom');
  assert.deepEqual(JSON.parse(entry!.detail!), { release: 'v1', process: 'web', container: 'fake-app-web', one_off: false, memory_mb: 128 });
  const [app] = await listApps(c.ctx);
  assert.match(app!.status, /killed for passing its memory limit/);
  assert.equal(app!.killed_for_memory?.release, 'v1');
  watching.abort();
  await done;
});

test('a release killed for memory before it is healthy fails the deploy with the fix, and the old one serves', async () => {
  const c = fakeCore();
  c.rt.addImage(IMG);
  c.rt.addImage('registry.test/app:2');
  await createApp(c.ctx, { name: 'app', domains: ['app.test'], services: [] }, 'tester');
  await deploy(c.ctx, { app: 'app', kind: 'deploy', image: IMG, actor: 'tester' }, noEvents);
  c.rt.health = (u) => { if (u.release === 'v2') { c.rt.oom(u); return 'ECONNREFUSED'; } return 200; };
  await assert.rejects(deploy(c.ctx, { app: 'app', kind: 'deploy', image: 'registry.test/app:2', actor: 'tester' }, noEvents), (e: BerthError) =>
    /killed for passing its memory limit before it became healthy/.test(e.message) && /berth apps limits app --memory/.test(e.hint ?? ''));
  assert.deepEqual([...c.rt.units.values()].filter((u) => u.serving).map((u) => u.release), ['v1']);
});
