import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bucketName, bucketPolicy, pgAppSlots, pgConnectionLimit, pgLimitSpec, pgLogin, pgNames, redisLogin, redisNames, s3AccessKey, s3PolicyName, sqlIdent,
  sqlLiteral,
} from './model.js';
import { externalRecord } from '../core/shared-services/external.js';
import { ValidationError } from '../lib/errors.js';

test('per-app names are derived from the app name and cannot collide', () => {
  assert.deepEqual(pgNames('my-app'), { db: 'app_my_app', group: 'app_my_app' });
  assert.equal(pgLogin({ ...pgNames('x'), logins: { a: 'p', b: null }, active: 'a' }, 'b'), 'app_x_b');
  assert.deepEqual(redisNames('shop'), { user: 'app-shop', prefix: 'shop:' });
  // app "shop" slot a and app "shop-a" (whose pre-slot user was app-shop-a) never meet
  assert.equal(redisLogin({ ...redisNames('shop'), logins: { a: 'p', b: null }, active: 'a' }, 'a'), 'app-shop.a');
  assert.equal(bucketName('a'), 'app-a'); // buckets need 3+ characters
  assert.equal(sqlIdent('we"ird'), '"we""ird"');
  assert.equal(sqlLiteral("it's"), "'it''s'");
});

test('external services are parsed and checked before anything is stored', () => {
  assert.deepEqual(externalRecord('postgres', { url: 'postgres://admin:p%40ss@db-vm:6543/postgres' }),
    { mode: 'external', host: 'db-vm', port: 6543, user: 'admin', password: 'p@ss' });
  assert.deepEqual(externalRecord('redis', { url: 'redis://:secret@redis-host' }),
    { mode: 'external', host: 'redis-host', port: 6379, user: 'default', password: 'secret' });
  assert.deepEqual(externalRecord('s3', { endpoint: 'https://s3.example.com', access_key: 'AK', secret_key: 'SK' }),
    { mode: 'external', endpoint: 'https://s3.example.com', region: 'us-east-1', accessKey: 'AK', password: 'SK' });
  for (const [s, i] of [['postgres', { url: 'mysql://a:b@h/x' }], ['postgres', { url: 'postgres://h/x' }], ['postgres', { url: 'not a url' }],
    ['redis', { url: 'postgres://a:b@h' }], ['s3', { endpoint: 'ftp://x', access_key: 'a', secret_key: 'b' }], ['s3', { endpoint: 'https://x' }]] as const) {
    assert.throws(() => externalRecord(s, i), ValidationError, JSON.stringify(i));
  }
});

test('a MinIO policy names only the app\'s bucket and its objects; access keys name the app', () => {
  const doc = bucketPolicy('app-shop');
  assert.equal(doc.Version, '2012-10-17');
  assert.deepEqual(doc.Statement.flatMap((s) => s.Resource).sort(), ['arn:aws:s3:::app-shop', 'arn:aws:s3:::app-shop/*']);
  assert.ok(doc.Statement.every((s) => s.Effect === 'Allow' && s.Action.every((a) => a.startsWith('s3:') && !a.includes('*'))));
  assert.equal(s3PolicyName('app-shop'), 'berth-app-shop');
  const key = s3AccessKey('shop', 'a1b2c3');
  assert.equal(key, 'app-shop-a1b2c3');
  assert.ok(key.length >= 3 && !/[=,]/.test(key)); // MinIO's rules for access keys
});

test('an app\'s default PostgreSQL connection limit: a share of what apps can use, at least 20, never more than half', () => {
  const server = { maxConnections: 100, superuserReserved: 3 }; // PostgreSQL's defaults, as berth runs it
  assert.equal(pgAppSlots(server), 94);
  assert.deepEqual([1, 2, 3, 4, 5, 10, 30, 100].map((n) => pgConnectionLimit(server, n, null)), [47, 47, 31, 23, 20, 20, 20, 20]);
  assert.equal(pgConnectionLimit(server, 3, 5), 5, 'the operator\'s limit wins');
  assert.equal(pgConnectionLimit(server, 3, 500), 500, 'even one above what the server has: berth services shows the overcommit');
  assert.equal(pgConnectionLimit({ maxConnections: 20, superuserReserved: 3 }, 1, null), 7, 'a small server: half of its 14 app slots');
  assert.equal(pgConnectionLimit({ maxConnections: 5, superuserReserved: 3 }, 1, null), 1);
  const g = { ...pgNames('shop'), logins: { a: 'p', b: null }, active: 'a' as const };
  assert.deepEqual(pgLimitSpec('shop', g), { app: 'shop', db: 'app_shop', logins: ['app_shop_a', 'app_shop_b'], requested: null });
  assert.equal(pgLimitSpec('shop', { ...g, connections: 8 }).requested, 8);
});
