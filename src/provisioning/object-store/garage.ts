// Garage (deuxfleurs.fr), berth's bundled object store, through its admin API v2: JSON over
// HTTP with a bearer token (doc/api/garage-admin-v2.json). One bucket and one key per app; a
// key is imported with the secret berth generated and stored first (ImportKey), so a re-run
// after a crash applies the same secret. Garage has no bucket policies, no versioning and no
// object lock; clients sign for region `garage` and address buckets by path.
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3Key } from '../model.js';
import { type Capabilities, KeyGone, type ObjectStore } from './types.js';

import { GARAGE_REGION } from '../../state/service-ports.js';

export { GARAGE_REGION };
const TIMEOUT_MS = 15_000;

/** The admin API calls berth makes with its scoped token, and nothing else (CreateAdminToken
 *  or UpdateAdminToken would let the token widen itself). Bootstrap calls use the root token. */
export const GARAGE_BERTH_SCOPE = ['GetClusterHealth', 'GetBucketInfo', 'CreateBucket', 'DeleteBucket', 'GetKeyInfo', 'ImportKey', 'DeleteKey',
  'AllowBucketKey', 'DenyBucketKey'] as const;
export const GARAGE_TOKEN_NAME = 'berth-provisioning';

export interface GarageAccess { admin: string; token: string; s3: string }

export class GarageError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message); }
}

/** One admin API v2 call: `POST /v2/Name?query` with a JSON body, or GET without one. */
export async function garageCall<T>(admin: string, token: string, name: string, o: { query?: Record<string, string>; body?: unknown } = {}): Promise<T> {
  const url = new URL(`/v2/${name}`, admin);
  for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v);
  const res = await fetch(url, {
    method: o.body === undefined && !/^(Create|Delete|Import|Allow|Deny|Update|Apply)/.test(name) ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, ...(o.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) {
    // Garage answers errors as JSON {"code": ..., "message": ...}; anything else is kept as text
    let code = `HTTP${res.status}`;
    let message = text.slice(0, 300);
    if (res.headers.get('content-type')?.includes('json')) {
      const e = JSON.parse(text) as { code?: string; message?: string };
      code = e.code ?? code;
      message = e.message ?? message;
    }
    throw new GarageError(res.status, code, `Garage admin ${name}: ${code}: ${message}`);
  }
  return (text ? JSON.parse(text) : null) as T;
}

const isMissing = (e: unknown) => e instanceof GarageError && e.status === 404;
interface BucketInfo { id: string; keys: { accessKeyId: string; permissions: { read: boolean; write: boolean; owner: boolean } }[] }

export class GarageStore implements ObjectStore {
  readonly kind = 'garage' as const;
  readonly capabilities: Capabilities = { perAppKeys: true, bucketPolicies: false, versioning: false, objectLock: false, region: GARAGE_REGION, pathStyle: true,
    keyIdsReusable: false };
  constructor(readonly a: GarageAccess) {}

  private call<T>(name: string, o?: { query?: Record<string, string>; body?: unknown }) { return garageCall<T>(this.a.admin, this.a.token, name, o); }
  private bucket(alias: string): Promise<BucketInfo | null> {
    return this.call<BucketInfo>('GetBucketInfo', { query: { globalAlias: alias } }).catch((e) => { if (isMissing(e)) return null; throw e; });
  }

  async check(): Promise<void> {
    const h = await this.call<{ status: string }>('GetClusterHealth');
    if (h.status !== 'healthy') throw new GarageError(503, 'Unhealthy', `Garage cluster is ${h.status}`);
  }

  async ensureBucket(bucket: string): Promise<void> {
    if (await this.bucket(bucket)) return;
    await this.call('CreateBucket', { body: { globalAlias: bucket } });
  }

  async ensureKey(bucket: string, key: S3Key): Promise<void> {
    const have = await this.call<{ secretAccessKey?: string }>('GetKeyInfo', { query: { id: key.accessKey, showSecretKey: 'true' } })
      .catch((e) => { if (isMissing(e)) return null; throw e; });
    // Garage can set neither a key's secret nor an id it ever held: a key that differs is gone for good
    if (have && have.secretAccessKey !== key.secretKey) throw new KeyGone(key.accessKey, 'holds another secret in Garage than the one berth stored');
    if (!have) {
      await this.call('ImportKey', { body: { accessKeyId: key.accessKey, secretAccessKey: key.secretKey, name: key.accessKey } }).catch((e) => {
        if (e instanceof GarageError && e.code === 'KeyAlreadyExists') throw new KeyGone(key.accessKey, 'was deleted in Garage, which never reuses a key id');
        throw e;
      });
    }
    const b = await this.bucket(bucket);
    if (!b) throw new GarageError(404, 'NoSuchBucket', `Garage has no bucket ${bucket}`);
    const perm = b.keys.find((k) => k.accessKeyId === key.accessKey)?.permissions;
    // read and write, never owner: an owner could change the bucket's website and CORS settings
    const change = (permissions: object) => ({ body: { bucketId: b.id, accessKeyId: key.accessKey, permissions } });
    if (perm?.owner) await this.call('DenyBucketKey', change({ owner: true }));
    if (!perm?.read || !perm.write) await this.call('AllowBucketKey', change({ read: true, write: true }));
  }

  async revokeKey(_bucket: string, accessKey: string): Promise<void> {
    await this.call('DeleteKey', { query: { id: accessKey } }).catch((e) => { if (!isMissing(e)) throw e; });
  }

  async dropBucket(bucket: string, keys: string[], using?: S3Key): Promise<void> {
    const b = await this.bucket(bucket);
    // Garage deletes only empty buckets, and its administrator has no S3 access: empty it with a key of the app's
    if (b && using) await emptyBucket(this.a.s3, this.capabilities.region, bucket, using);
    if (b) await this.call('DeleteBucket', { query: { id: b.id } });
    for (const k of keys) await this.revokeKey(bucket, k);
  }
}

/** Deletes every object of a bucket through S3, with a key allowed in it. */
export async function emptyBucket(endpoint: string, region: string, bucket: string, key: S3Key): Promise<void> {
  const s3 = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId: key.accessKey, secretAccessKey: key.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  try {
    for (;;) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
      if (!page.Contents?.length) return;
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: page.Contents.map((o) => ({ Key: o.Key! })) } }));
    }
  } finally {
    s3.destroy();
  }
}
