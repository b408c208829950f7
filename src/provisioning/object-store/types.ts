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
  /** Empties and deletes the bucket (`key`: one allowed in it, for stores whose administrator
   *  does not speak S3); a bucket already gone is not an error. */
  dropBucket(bucket: string, key?: S3Key): Promise<void>;
}
