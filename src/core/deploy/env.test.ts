import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESERVED_ENV_KEYS, envKey } from '../../lib/validate.js';
import { pgNames, redisNames } from '../../provisioning/model.js';
import { createApp } from '../apps/apps.js';
import { changeConfig } from '../config/config.js';
import { fakeCore, noEvents } from '../testing.js';
import { readsOtherStore, releaseEnv } from './env.js';
import { deploy, rollback } from './engine.js';
import type { BerthError } from '../../lib/errors.js';

test('every key berth puts in a release env is reserved: user config cannot set it (and be silently overridden)', async () => {
  const { ctx } = fakeCore();
  await createApp(ctx, { name: 'shop', domains: ['shop.test'], services: [] }, 'tester');
  // the app holds all three services (external ones: no containers needed), S3 with a public endpoint
  const rec = (r: object) => ctx.cipher.encryptJSON({ mode: 'external', password: 'admin-pw', ...r });
  ctx.store.setService('postgres', 'external', rec({ host: 'db', port: 5432, user: 'postgres' }));
  ctx.store.setService('redis', 'external', rec({ host: 'redis', port: 6379, user: 'default' }));
  ctx.store.setService('s3', 'external', rec({ endpoint: 'https://s3.example.com', region: 'eu-1', accessKey: 'K' }));
  ctx.store.setAppServices('shop', ['postgres', 'redis', 's3']);
  ctx.store.setAppService('shop', 'postgres', ctx.cipher.encryptJSON({ ...pgNames('shop'), logins: { a: 'pw', b: null }, active: 'a' }));
  ctx.store.setAppService('shop', 'redis', ctx.cipher.encryptJSON({ ...redisNames('shop'), passwords: ['pw'], active: 'pw' }));
  ctx.store.setAppService('shop', 's3', ctx.cipher.encryptJSON({ bucket: 'app-shop', accessKey: 'K', secretKey: 'S', region: 'eu-1' }));
  const env = releaseEnv(ctx, 'shop', 'v1');
  assert.ok('S3_PUBLIC_ENDPOINT' in env && 'DATABASE_URL' in env && 'AWS_REQUEST_CHECKSUM_CALCULATION' in env, Object.keys(env).join(', '));
  const injected = [...Object.keys(env), 'PORT']; // PORT is added by the runtime
  for (const k of injected) {
    assert.ok(RESERVED_ENV_KEYS.has(k), `${k} is set by berth but not reserved`);
    assert.throws(() => envKey(k), /set by berth/);
  }
  await assert.rejects(changeConfig(ctx, 'shop', { set: { S3_PUBLIC_ENDPOINT: 'https://evil.example' }, actor: 'tester' }, noEvents), /set by berth/);
});

// Keys stored before berth reserved them (an older berth let a user set S3_PUBLIC_ENDPOINT): a
// release never gets them, and the user can remove them.
test('a reserved key left in an app\'s config from before is kept out of its releases, and can be unset', async () => {
  const { ctx } = fakeCore();
  await createApp(ctx, { name: 'shop', domains: ['shop.test'], services: [] }, 'tester');
  ctx.store.setConfig('shop', 'S3_PUBLIC_ENDPOINT', ctx.cipher.encrypt('https://stale.example'));
  ctx.store.setConfig('shop', 'SMTP_HOST', ctx.cipher.encrypt('mail'));
  const env = releaseEnv(ctx, 'shop', 'v1');
  assert.equal(env.SMTP_HOST, 'mail');
  assert.equal('S3_PUBLIC_ENDPOINT' in env, false, 'a stale reserved key reached the release');
  await changeConfig(ctx, 'shop', { unset: ['S3_PUBLIC_ENDPOINT'], deploy: false, actor: 'tester' }, noEvents);
  assert.deepEqual(Object.keys(ctx.store.configOf('shop')), ['SMTP_HOST']);
  await assert.rejects(changeConfig(ctx, 'shop', { unset: ['1BAD'], actor: 'tester' }, noEvents), /not a valid environment variable name/);
});

test('a rollback never goes back to a release that reads the object store the platform moved away from', async () => {
  const { ctx, rt } = fakeCore();
  rt.addImage('registry.test/shop:1');
  await createApp(ctx, { name: 'shop', domains: ['shop.test'], services: [] }, 'tester');
  const rec = (r: object) => ctx.cipher.encryptJSON({ mode: 'container', users: true, password: 'root', ...r });
  ctx.store.setService('s3', 'container', rec({ store: 'minio', accessKey: 'berth-admin' }));
  ctx.store.setAppServices('shop', ['s3']);
  ctx.store.setAppService('shop', 's3', ctx.cipher.encryptJSON({ bucket: 'app-shop', accessKey: 'app-shop-000001', secretKey: 'S', region: 'us-east-1' }));
  await deploy(ctx, { app: 'shop', kind: 'deploy', image: 'registry.test/shop:1', actor: 'tester' }, noEvents);
  // what berth services move s3 --to garage leaves: Garage beside the old store, a new key
  ctx.store.setService('s3', 'container', rec({ store: 'garage', slot: 'garage', region: 'garage' }));
  ctx.store.setAppService('shop', 's3', ctx.cipher.encryptJSON({ bucket: 'app-shop', accessKey: 'app-shop-000002', secretKey: 'S2', region: 'garage' }));
  await deploy(ctx, { app: 'shop', kind: 'config', actor: 'tester', note: 'moved to Garage' }, noEvents);
  assert.equal(releaseEnv(ctx, 'shop', 'v3').S3_ENDPOINT, 'http://fake-s3-garage:9000');
  await assert.rejects(rollback(ctx, { app: 'shop', actor: 'tester' }, noEvents),
    (e: BerthError) => e.code === 'conflict' && /v1 of shop reads object storage at http:\/\/fake-s3:9000/.test(e.message));
  await deploy(ctx, { app: 'shop', kind: 'config', actor: 'tester' }, noEvents);
  assert.equal((await rollback(ctx, { app: 'shop', actor: 'tester' }, noEvents)).release, 'v2', 'a release from after the move is fine');
  assert.equal(readsOtherStore({ S3_ENDPOINT: 'a' }, {}), false, 'an app without object storage now');
});
