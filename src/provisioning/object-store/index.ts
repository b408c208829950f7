// Which ObjectStore serves a job (from the access data the daemon sends the worker), and an
// app's grant applied to or dropped from it: the same steps for every store.
import type { S3Grant } from '../model.js';
import type { S3Admin } from '../s3.js';
import { type GarageAccess, GarageStore } from './garage.js';
import { MinioStore } from './minio.js';
import { PlainS3Store } from './plain.js';
import { KeyGone, type ObjectStore } from './types.js';

export type StoreAccess = { kind: 'garage'; garage: GarageAccess } | { kind: 'minio' | 's3'; admin: S3Admin };

export function storeFor(a: StoreAccess): ObjectStore {
  if (a.kind === 'garage') return new GarageStore(a.garage);
  return a.kind === 'minio' ? new MinioStore(a.admin) : new PlainS3Store(a.admin);
}

/** The bucket, then every key the app holds (two during a rotation), then the revoked ones go. */
export async function applyGrant(store: ObjectStore, g: S3Grant): Promise<void> {
  await store.ensureBucket(g.bucket);
  if (!store.capabilities.perAppKeys) return;
  for (const k of g.keys ?? []) {
    // an old key that is gone for good is no loss while a rotation replaces it: only the active one must exist
    await store.ensureKey(g.bucket, k).catch((e) => { if (!(e instanceof KeyGone && k.accessKey !== g.accessKey)) throw e; });
  }
  for (const old of g.revoked ?? []) await store.revokeKey(g.bucket, old);
}

/** The bucket with its content, and the app's keys. */
export async function dropGrant(store: ObjectStore, g: S3Grant): Promise<void> {
  const using = g.keys?.find((k) => k.accessKey === g.accessKey) ?? g.keys?.[0];
  const keys = store.capabilities.perAppKeys ? [...(g.keys ?? []).map((x) => x.accessKey), ...(g.revoked ?? [])] : [];
  await store.dropBucket(g.bucket, keys, using);
}
