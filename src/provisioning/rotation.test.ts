import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type AppGrants, redisCredential, upgradeRedisGrant } from './model.js';
import { begin, commit, envUsesActive, inProgress, undo } from './rotation.js';

const g0: AppGrants = {
  postgres: { db: 'app_x', group: 'app_x', logins: { a: 'pg-old', b: null }, active: 'a' },
  redis: { user: 'app-x', prefix: 'x:', logins: { a: 'rd-old', b: null }, active: 'a' },
  s3: { bucket: 'app-x', accessKey: 'app-x-1', secretKey: 's3-old', region: 'us-east-1', keys: [{ accessKey: 'app-x-1', secretKey: 's3-old' }] },
};
const fresh = { secret: 'new-secret', s3Key: { accessKey: 'app-x-2', secretKey: 's3-new' } };
const all = ['postgres', 'redis', 's3'] as const;
const begun = all.reduce((g, s) => begin(g, s, fresh), g0);

test('begin adds the new credential beside the old one and makes it active', () => {
  assert.deepEqual(inProgress(g0), []);
  assert.deepEqual(begun.postgres!.logins, { a: 'pg-old', b: 'new-secret' });
  assert.equal(begun.postgres!.active, 'b');
  assert.deepEqual(begun.redis!.logins, { a: 'rd-old', b: 'new-secret' });
  assert.equal(begun.redis!.active, 'b');
  assert.equal(begun.s3!.accessKey, 'app-x-2');
  assert.equal(begun.s3!.keys!.length, 2);
  assert.deepEqual(inProgress(begun), ['postgres', 'redis', 's3']);
});

test('commit keeps only the new credentials and names the old MinIO user to revoke', () => {
  const done = all.reduce(commit, begun);
  assert.deepEqual(done.postgres!.logins, { a: null, b: 'new-secret' });
  assert.deepEqual(done.redis!.logins, { a: null, b: 'new-secret' });
  assert.deepEqual(done.s3!.keys, [{ accessKey: 'app-x-2', secretKey: 's3-new' }]);
  assert.deepEqual(done.s3!.revoked, ['app-x-1']);
  assert.deepEqual(inProgress(done), []);
});

test('undo goes back to the old credentials and names the new MinIO user to revoke', () => {
  const back = all.reduce(undo, begun);
  assert.deepEqual(back.postgres, { ...g0.postgres, logins: { a: 'pg-old', b: null }, active: 'a' });
  assert.deepEqual(back.redis, g0.redis);
  assert.deepEqual({ ...back.s3, revoked: undefined }, { ...g0.s3, revoked: undefined });
  assert.deepEqual(back.s3!.revoked, ['app-x-2']);
  assert.deepEqual(inProgress(back), []);
});

test('a release\'s env tells whether it was made with the new credentials', () => {
  const newEnv = { DATABASE_URL: 'postgres://app_x_b:new-secret@h:5432/app_x', REDIS_URL: 'redis://app-x.b:new-secret@h:6379', S3_ACCESS_KEY: 'app-x-2' };
  const oldEnv = { DATABASE_URL: 'postgres://app_x_a:pg-old@h:5432/app_x', REDIS_URL: 'redis://app-x.a:rd-old@h:6379', S3_ACCESS_KEY: 'app-x-1' };
  for (const s of all) {
    assert.equal(envUsesActive(newEnv, begun, s), true, s);
    assert.equal(envUsesActive(oldEnv, begun, s), false, s);
  }
});

test('a Redis grant from before two users: slot a takes its password, its user stays until a rotation commits', () => {
  const legacy = upgradeRedisGrant({ user: 'app-x', prefix: 'x:', passwords: ['old', 'new'], active: 'new' });
  assert.deepEqual(legacy, { user: 'app-x', prefix: 'x:', logins: { a: 'new', b: null }, active: 'a', legacy: { passwords: ['old', 'new'] } });
  assert.equal(upgradeRedisGrant(legacy), legacy, 'an upgraded grant stays as it is');
  const g = { redis: legacy };
  const begun1 = begin(g, 'redis', fresh);
  assert.deepEqual(undo(begun1, 'redis'), g, 'taking a rotation back keeps the legacy user for the running release');
  assert.deepEqual(redisCredential(legacy), { user: 'app-x', password: 'new' }, 'the running release\'s user, until a rotation');
  assert.deepEqual(redisCredential(begun1.redis!), { user: 'app-x.b', password: 'new-secret' }, 'a rotation\'s release uses a slot user');
  assert.deepEqual(redisCredential(undo(begun1, 'redis').redis!), { user: 'app-x', password: 'new' });
  const done = commit(begun1, 'redis');
  assert.deepEqual(done.redis, { user: 'app-x', prefix: 'x:', logins: { a: null, b: 'new-secret' }, active: 'b' });
  // a release made from the upgraded grant, before any rotation, uses slot a
  assert.equal(envUsesActive({ REDIS_URL: 'redis://app-x.a:new@h:6379' }, g, 'redis'), true);
  assert.equal(envUsesActive({ REDIS_URL: 'redis://app-x:new@h:6379' }, g, 'redis'), false);
});
