import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkerJob } from '../../provisioning/worker.js';
import { createApp } from '../apps/apps.js';
import { updateApp } from '../apps/update.js';
import { fakeCore } from '../testing.js';
import { pgConnectionsSetting } from './pg-limits.js';

/** A core whose services worker records the jobs it is sent. */
async function core() {
  const { ctx, rt } = fakeCore({ services: ['postgres'] });
  await rt.services.ensure({ service: 'postgres', adminPassword: 'admin-secret' });
  const jobs: WorkerJob[] = [];
  ctx.jobs = async (j) => { jobs.push(j); return { postgres: { ok: true } }; };
  return { ctx, jobs };
}
const limitsOf = (j: WorkerJob | undefined) => j?.postgres?.limits?.map((s) => [s.app, s.requested]);

test('every provisioning sends every app\'s limit (the default depends on how many apps have a database)', async () => {
  const { ctx, jobs } = await core();
  await createApp(ctx, { name: 'shop', domains: ['shop.example.com'], pgConnections: 8 }, 't');
  await createApp(ctx, { name: 'blog', domains: ['blog.example.com'] }, 't');
  assert.deepEqual(limitsOf(jobs.at(-1)), [['blog', null], ['shop', 8]]);
  assert.equal(jobs.at(-1)!.postgres!.grant!.db, 'app_blog');
  assert.equal(pgConnectionsSetting(ctx, 'shop'), 8);
  assert.equal(pgConnectionsSetting(ctx, 'blog'), 'default');
});

test('apps update stores the limit in the grant and applies every app\'s; null goes back to the default', async () => {
  const { ctx, jobs } = await core();
  await createApp(ctx, { name: 'shop', domains: ['shop.example.com'] }, 't');
  await updateApp(ctx, 'shop', { pgConnections: 30 }, 't');
  assert.deepEqual(limitsOf(jobs.at(-1)), [['shop', 30]]);
  assert.equal(jobs.at(-1)!.postgres!.grant, undefined, 'an update sends no grant: only the limits');
  await updateApp(ctx, 'shop', { pgConnections: null }, 't');
  assert.deepEqual(limitsOf(jobs.at(-1)), [['shop', null]]);
  assert.equal(pgConnectionsSetting(ctx, 'shop'), 'default');
  await assert.rejects(createApp(ctx, { name: 'site', domains: ['site.example.com'], services: [], pgConnections: 5 }, 't'), /pg_connections: site gets no/);
  assert.equal(ctx.store.getApp('site'), undefined);
});
