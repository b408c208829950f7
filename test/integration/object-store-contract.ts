// The one contract every ObjectStore implementation must keep, run against real servers (see
// garage-store.test.ts, minio-store.test.ts): buckets and per-app keys are idempotent, a key
// opens its own bucket and no other, unsigned requests get nothing, a revoked key is refused,
// a dropped bucket is gone with its content.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { KeyGone, type ObjectStore } from '../../src/provisioning/object-store/types.js';
import { applyGrant, dropGrant } from '../../src/provisioning/object-store/index.js';
import { s3Client } from '../helpers/s3-client.js';
import { until } from '../helpers/platform.js';

export interface ContractTarget { store: ObjectStore; s3: string }

const rnd = () => Math.random().toString(36).slice(2, 8);
const key = (app: string) => ({ accessKey: `app-${app}-${rnd()}`, secretKey: `${rnd()}${rnd()}${rnd()}${rnd()}${rnd()}` });
const denied = /AccessDenied|Access Denied|Forbidden|InvalidAccessKeyId|NoSuchBucket/;

export function objectStoreContract(name: string, target: () => ContractTarget): void {
  const client = (k: { accessKey: string; secretKey: string }) => s3Client(target().s3, k.accessKey, k.secretKey, target().store.capabilities.region);
  const refused = (k: { accessKey: string; secretKey: string }, bucket: string, what: string) =>
    until(() => client(k).send(new ListObjectsV2Command({ Bucket: bucket })).then(() => false, () => true), 10_000, what);
  const readsBack = (k: { accessKey: string; secretKey: string }, bucket: string, what: string) =>
    until(() => client(k).send(new GetObjectCommand({ Bucket: bucket, Key: 'one.txt' })).then((r) => r.Body!.transformToString(), () => false), 10_000, what);
  const a = { bucket: `app-a${rnd()}`, key: key('a') };
  const b = { bucket: `app-b${rnd()}`, key: key('b') };

  test(`${name}: answers its administrator and says what it can do`, async () => {
    await target().store.check();
    assert.equal(target().store.capabilities.perAppKeys, true);
    assert.equal(target().store.capabilities.pathStyle, true);
  });

  test(`${name}: buckets and keys are idempotent; a key reads, writes, lists and deletes in its bucket`, async () => {
    for (const x of [a, b]) {
      for (let i = 0; i < 2; i++) await applyGrant(target().store, { bucket: x.bucket, ...x.key, region: target().store.capabilities.region, keys: [x.key] });
    }
    const c = client(a.key);
    await c.send(new PutObjectCommand({ Bucket: a.bucket, Key: 'one.txt', Body: 'a data' }));
    assert.equal(await (await c.send(new GetObjectCommand({ Bucket: a.bucket, Key: 'one.txt' }))).Body!.transformToString(), 'a data');
    assert.deepEqual((await c.send(new ListObjectsV2Command({ Bucket: a.bucket }))).Contents?.map((o) => o.Key), ['one.txt']);
    await c.send(new PutObjectCommand({ Bucket: a.bucket, Key: 'two.txt', Body: 'x' }));
    await c.send(new DeleteObjectCommand({ Bucket: a.bucket, Key: 'two.txt' }));
    await client(b.key).send(new PutObjectCommand({ Bucket: b.bucket, Key: 'b.txt', Body: 'b data' }));
  });

  test(`${name}: a key cannot read, write, list or delete in another bucket`, async () => {
    const c = client(a.key);
    await assert.rejects(c.send(new GetObjectCommand({ Bucket: b.bucket, Key: 'b.txt' })), denied);
    await assert.rejects(c.send(new PutObjectCommand({ Bucket: b.bucket, Key: 'evil.txt', Body: 'x' })), denied);
    await assert.rejects(c.send(new ListObjectsV2Command({ Bucket: b.bucket })), denied);
    await assert.rejects(c.send(new DeleteObjectCommand({ Bucket: b.bucket, Key: 'b.txt' })), denied);
    assert.equal(await (await client(b.key).send(new GetObjectCommand({ Bucket: b.bucket, Key: 'b.txt' }))).Body!.transformToString(), 'b data');
  });

  test(`${name}: unsigned requests get nothing`, async () => {
    const tries = [['GET', `/${b.bucket}/b.txt`], ['PUT', `/${b.bucket}/anon.txt`], ['GET', `/${b.bucket}?list-type=2`], ['GET', '/'],
      ['DELETE', `/${b.bucket}/b.txt`]];
    for (const [method, path] of tries) {
      const r = await fetch(`${target().s3}${path}`, { method, body: method === 'PUT' ? 'anonymous' : undefined });
      assert.ok(r.status >= 400 && r.status < 500, `unsigned ${method} ${path}: ${r.status} ${await r.text()}`);
    }
  });

  test(`${name}: a revoked key is refused; made again, it works (MinIO) or is refused as gone for good (Garage)`, async () => {
    const lost = key('a');
    await target().store.ensureKey(a.bucket, lost);
    await client(lost).send(new GetObjectCommand({ Bucket: a.bucket, Key: 'one.txt' }));
    await target().store.revokeKey(a.bucket, lost.accessKey);
    await target().store.revokeKey(a.bucket, lost.accessKey); // already gone: fine
    // revocation reaches every request soon, not necessarily the very next one (caches)
    await refused(lost, a.bucket, 'the revoked key to be refused');
    if (!target().store.capabilities.keyIdsReusable) {
      await assert.rejects(target().store.ensureKey(a.bucket, lost), KeyGone);
      return;
    }
    await target().store.ensureKey(a.bucket, lost);
    assert.equal(await readsBack(lost, a.bucket, 'the key made again to work'), 'a data');
  });

  test(`${name}: rotation: the new key works beside the old, then the old one is refused`, async () => {
    const fresh = key('a');
    const g = { bucket: a.bucket, ...fresh, region: target().store.capabilities.region, keys: [a.key, fresh] };
    await applyGrant(target().store, g);
    for (const k of [a.key, fresh]) await client(k).send(new GetObjectCommand({ Bucket: a.bucket, Key: 'one.txt' }));
    await applyGrant(target().store, { ...g, keys: [fresh], revoked: [a.key.accessKey] });
    await refused(a.key, a.bucket, 'the old key to be refused');
    await client(fresh).send(new GetObjectCommand({ Bucket: a.bucket, Key: 'one.txt' }));
    a.key = fresh;
  });

  test(`${name}: dropping a bucket empties and deletes it and revokes its keys; again is fine`, async () => {
    const g = { bucket: b.bucket, ...b.key, region: target().store.capabilities.region, keys: [b.key] };
    await dropGrant(target().store, g);
    await dropGrant(target().store, g);
    await target().store.ensureKey(a.bucket, a.key);
    await assert.rejects(client(a.key).send(new ListObjectsV2Command({ Bucket: b.bucket })), denied);
    await refused(b.key, b.bucket, 'the dropped bucket\'s key to be refused');
  });
}
