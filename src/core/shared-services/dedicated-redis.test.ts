import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApp, showApp } from '../apps/apps.js';
import { fakeCore } from '../testing.js';
import type { WorkerJob } from '../../provisioning/worker.js';
import { dedicatedRedisPassword } from './dedicated-redis.js';
import { appNetworkFor, appsUsing, serviceEnv } from './services.js';

test('a dedicated Redis\'s admin password is stable for an app, different for another, and not the shared one', () => {
  assert.equal(dedicatedRedisPassword('shared-pw', 'shop'), dedicatedRedisPassword('shared-pw', 'shop'));
  assert.notEqual(dedicatedRedisPassword('shared-pw', 'shop'), dedicatedRedisPassword('shared-pw', 'blog'));
  assert.notEqual(dedicatedRedisPassword('shared-pw', 'shop'), 'shared-pw');
});

test('apps create --redis dedicated: the app\'s users go to its own Redis, with its own memory; an app keeps the Redis it was made with', async () => {
  const { ctx, rt } = fakeCore({ services: ['redis'] });
  await ctx.runtime.services.ensure({ service: 'redis', adminPassword: 'x' }, () => undefined);
  const jobs: WorkerJob[] = [];
  ctx.jobs = async (job: WorkerJob) => { jobs.push(job); return Object.fromEntries(Object.keys(job).map((k) => [k, { ok: true }])); };
  await createApp(ctx, { name: 'shop', domains: ['shop.test'], redis: 'dedicated' }, 'tester');
  assert.deepEqual(rt.services.dedicated.get('shop'), { maxmemoryMb: 48, policy: 'volatile-lru', floorMb: 64 });
  const applied = jobs.find((j) => j.redis?.grant)!;
  assert.equal(applied.redis!.admin.host, '10.0.1.2', 'the grant went to the shared Redis');
  assert.match(serviceEnv(ctx, 'shop').REDIS_URL!, /^redis:\/\/app-shop\.a:[^@]+@fake-redis-shop:6379$/);
  assert.match((await showApp(ctx, 'shop')).resources.redis!, /^its own: fake-redis-shop, maxmemory 48 MB$/);
  await assert.rejects(createApp(ctx, { name: 'shop', domains: ['shop.test'], redis: 'shared' }, 'tester'), /already uses a Redis of its own/);
  await createApp(ctx, { name: 'blog', domains: ['blog.test'] }, 'tester');
  assert.match(serviceEnv(ctx, 'blog').REDIS_URL!, /@fake-redis:6379$/);
  await assert.rejects(createApp(ctx, { name: 'x', domains: ['x.test'], services: [], redis: 'dedicated' }, 'tester'), /exclude each other/);
});

test('an app\'s network holds the shared services it uses and no other: not the shared Redis for an app with a Redis of its own', async () => {
  const { ctx, rt } = fakeCore({ services: ['redis'] });
  await ctx.runtime.services.ensure({ service: 'redis', adminPassword: 'x' }, () => undefined);
  ctx.jobs = async (job: WorkerJob) => Object.fromEntries(Object.keys(job).map((k) => [k, { ok: true }]));
  await createApp(ctx, { name: 'shop', domains: ['shop.test'], redis: 'dedicated' }, 'tester');
  await createApp(ctx, { name: 'blog', domains: ['blog.test'] }, 'tester');
  await createApp(ctx, { name: 'bare', domains: ['bare.test'], services: [] }, 'tester');
  for (const [app, services] of [['shop', []], ['blog', ['redis']], ['bare', []]] as const) {
    assert.deepEqual([...rt.appNetworks.get(app)!], services, `${app}'s network as created`);
    assert.deepEqual(appNetworkFor(ctx, app).services, services, `${app}'s network as the reconcile keeps it`);
  }
  assert.deepEqual(appsUsing(ctx, 'redis'), ['blog'], 'a shared Redis made anew joins these networks only');
  await createApp(ctx, { name: 'shop', domains: ['shop.test'] }, 'tester'); // run again, without --redis
  assert.deepEqual([...rt.appNetworks.get('shop')!], [], 'an app keeps the Redis it was made with, and the shared one stays off its network');
});
