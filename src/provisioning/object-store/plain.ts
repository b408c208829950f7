// An S3 server berth cannot create users in (AWS S3, R2, B2 with the key the operator gave, or
// s3rver when the operator asked for it by name): a bucket per app, all used with one key.
import { applyS3, checkS3, dropS3, type S3Admin } from '../s3.js';
import type { S3Key } from '../model.js';
import type { Capabilities, ObjectStore } from './types.js';

export class PlainS3Store implements ObjectStore {
  readonly kind = 's3' as const;
  readonly capabilities: Capabilities;
  constructor(readonly a: S3Admin) {
    // what such a server offers beyond buckets is not known to berth: claimed as absent
    this.capabilities = { perAppKeys: false, bucketPolicies: false, versioning: false, objectLock: false, region: a.region, pathStyle: true,
      keyIdsReusable: true };
  }

  check(): Promise<void> { return checkS3(this.a); }
  ensureBucket(bucket: string): Promise<void> { return applyS3(this.a, { bucket }); }
  ensureKey(_bucket: string, key: S3Key): Promise<void> {
    return Promise.reject(new Error(`this S3 server has no per-app keys: cannot make ${key.accessKey}`));
  }
  async revokeKey(): Promise<void> { /* nothing to revoke: the key is the operator's own */ }
  dropBucket(bucket: string): Promise<void> { return dropS3(this.a, { bucket }); } // no keys of the app's to revoke
}
