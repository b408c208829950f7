// One interface for every object store berth provisions in (the bundled Garage, a bundled or
// external MinIO, a plain S3 such as AWS, R2 or s3rver), so core never asks which one it is:
// it reads `capabilities` and calls the same four operations. Each implementation passes one
// shared contract suite (test/integration/object-store-contract.ts) against a real server.
import type { S3Key } from '../model.js';

export type StoreKind = 'garage' | 'minio' | 's3';

export interface Capabilities {
  /** Each app gets keys of its own that open its bucket only (false: all apps share one key). */
  perAppKeys: boolean;
  /** S3 bucket policies (PutBucketPolicy) */
  bucketPolicies: boolean;
  versioning: boolean;
  objectLock: boolean;
  /** The region clients must sign with. */
  region: string;
  /** Buckets are addressed by path (http://host/bucket/key), not by virtual host. */
  pathStyle: boolean;
  /** A key deleted in the store can be made again with the same id (MinIO); Garage never reuses one. */
  keyIdsReusable: boolean;
}

/** The key cannot be made as berth stored it (deleted for good, or its secret changed behind
 *  berth's back): the app needs a new one (berth apps rotate APP --s3). */
export class KeyGone extends Error {
  constructor(readonly accessKey: string, why: string) {
    const app = /^app-(.+)-[0-9a-f]{6}$/.exec(accessKey)?.[1] ?? 'APP'; // berth's keys name their app (model.ts s3AccessKey)
    super(`object storage key ${accessKey} ${why}; give the app a new key with: berth apps rotate ${app} --s3`);
  }
}

export interface ObjectStore {
  readonly kind: StoreKind;
  readonly capabilities: Capabilities;
  /** Answers its administrator now; fails with the reason otherwise. */
  check(): Promise<void>;
  /** The bucket exists (created when missing). */
  ensureBucket(bucket: string): Promise<void>;
  /** The key exists with exactly this secret and may read, write and delete in this bucket and
   *  nowhere else. Idempotent. Only where capabilities.perAppKeys. */
  ensureKey(bucket: string, key: S3Key): Promise<void>;
  /** The key is gone (refused from now on); one already gone is not an error. */
  revokeKey(bucket: string, accessKey: string): Promise<void>;
  /** Empties and deletes the bucket and revokes these keys (`using`: one allowed in it, for
   *  stores whose administrator does not speak S3); what is already gone is not an error. */
  dropBucket(bucket: string, keys: string[], using?: S3Key): Promise<void>;
}
