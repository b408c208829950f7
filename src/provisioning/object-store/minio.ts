// A MinIO server (bundled on platforms that chose it before Garage, or external with its root or
// an admin key; also MinIO-compatible servers such as RustFS or pgsty/silo): a user per key with
// one canned policy that names the app's bucket only. The admin calls are in ../minio/.
import { bucketPolicy, type S3Key, s3PolicyName } from '../model.js';
import { addPolicy, addUser, attachPolicy, MinioAdminError, removePolicy, removeUser, userInfo, type MinioAdmin } from '../minio/admin.js';
import { applyS3, checkS3, dropS3 } from '../s3.js';
import type { Capabilities, ObjectStore } from './types.js';

export class MinioStore implements ObjectStore {
  readonly kind = 'minio' as const;
  readonly capabilities: Capabilities;
  constructor(readonly a: MinioAdmin) {
    this.capabilities = { perAppKeys: true, bucketPolicies: true, versioning: true, objectLock: true, region: a.region, pathStyle: true, keyIdsReusable: true };
  }

  async check(): Promise<void> {
    await checkS3(this.a);
    await userInfo(this.a, 'berth-probe-no-such-user');
  }

  ensureBucket(bucket: string): Promise<void> { return applyS3(this.a, { bucket }); }

  async ensureKey(bucket: string, key: S3Key): Promise<void> {
    const policy = s3PolicyName(bucket);
    await addPolicy(this.a, policy, bucketPolicy(bucket));
    await addUser(this.a, key.accessKey, key.secretKey); // sets the stored secret again when the user exists
    await attachPolicy(this.a, key.accessKey, policy);
  }

  revokeKey(_bucket: string, accessKey: string): Promise<void> { return removeUser(this.a, accessKey); }

  async dropBucket(bucket: string, keys: string[]): Promise<void> {
    for (const k of keys) await removeUser(this.a, k); // first: MinIO keeps a policy that users hold
    await dropS3(this.a, { bucket });
    await removePolicy(this.a, s3PolicyName(bucket));
  }
}

/** True when the endpoint is a MinIO server on which these credentials administer users: asking
 *  for a user that does not exist gets "no such user" there, and a refusal (4xx, 501) anywhere else.
 *  Anything else (no answer, a timeout, a server error) tells nothing and is thrown: the answer
 *  is recorded for good, and a false one puts every app on one key. */
export async function canManageUsers(a: MinioAdmin): Promise<boolean> {
  try {
    return (await userInfo(a, 'berth-probe-no-such-user')) === null;
  } catch (e) {
    // a refusal, or "not implemented" (S3 servers that have no such API): an answer
    if (e instanceof MinioAdminError && ((e.status >= 400 && e.status < 500) || e.status === 501)) return false;
    throw e;
  }
}
