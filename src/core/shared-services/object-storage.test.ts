import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BerthError } from '../../lib/errors.js';
import { fakeCore } from '../testing.js';
import { bundledStore, firstS3Record, objectStoreWarnings, s3Grant } from './object-storage.js';

test('a new platform gets Garage, named by its published image whatever a pull would do now; never s3rver unasked', async () => {
  const offline = fakeCore({ services: ['s3'] });
  const rec = await firstS3Record(offline.ctx, () => undefined);
  assert.equal(bundledStore(rec), 'garage');
  assert.equal(rec.users, true);
  // where no registry answers, the runtime runs its own build at each start: nothing recorded
  // rests on a pull (src/runtime/docker/services.test.ts)
  assert.equal(rec.image, offline.ctx.settings.garage_image);
  assert.match(rec.rpcSecret!, /^[0-9a-f]{64}$/);
  assert.ok(offline.ctx.store.getService('s3'), 'the choice is recorded');
  assert.deepEqual(objectStoreWarnings(rec), []);
  const g = s3Grant(offline.ctx, 'shop');
  assert.equal(g.region, 'garage');
  assert.deepEqual(g.keys, [{ accessKey: g.accessKey, secretKey: g.secretKey }], 'a key of its own');
});

test('MinIO only when asked for, and only when its image can be had; s3rver only by name, and said plainly', async () => {
  const minio = fakeCore({ services: ['s3'], object_store: 'minio' });
  minio.rt.pullable = async () => ({ ok: false, reason: 'offline', message: 'no registry' });
  await assert.rejects(firstS3Record(minio.ctx, () => undefined), (e: BerthError) => /Garage/.test(e.hint ?? ''));
  assert.equal(minio.ctx.store.getService('s3'), undefined, 'a failed pull fixed the choice');

  const named = fakeCore({ services: ['s3'], object_store: 's3rver' });
  const rec = await firstS3Record(named.ctx, () => undefined);
  assert.equal(bundledStore(rec), 's3rver');
  assert.match(objectStoreWarnings(rec).join(), /every app can read and write every bucket/);
  assert.equal(s3Grant(named.ctx, 'shop').keys, undefined, 'no key of its own');
});

test('a bundled MinIO from before Garage keeps running, with the CVE said for releases before 2025-10-15', () => {
  const legacy = { mode: 'container' as const, users: true, image: 'minio/minio:RELEASE.2025-04-22T22-12-26Z', password: 'x' };
  assert.equal(bundledStore(legacy), 'minio');
  assert.match(objectStoreWarnings(legacy).join(), /CVE-2025-62506.*Garage/);
  assert.doesNotMatch(objectStoreWarnings({ ...legacy, image: 'berth/minio:RELEASE.2026-02-12T20-18-48Z-source' }).join(), /CVE/);
  assert.equal(bundledStore({ mode: 'container', password: 'S3RVER' }), 's3rver', 'an s3rver record from before Garage');
});
