// Per-app users in MinIO: a canned policy limited to the app's bucket, and one user per key the
// app holds (two during a rotation), each with only that policy. Idempotent: add-user sets the
// stored secret again and attaching an attached policy is accepted.
import { bucketPolicy, type S3Grant, s3PolicyName } from '../model.js';
import { addPolicy, addUser, attachPolicy, type MinioAdmin, removePolicy, removeUser, userInfo } from './admin.js';

export async function applyMinioUsers(a: MinioAdmin, g: S3Grant): Promise<void> {
  const policy = s3PolicyName(g.bucket);
  await addPolicy(a, policy, bucketPolicy(g.bucket));
  for (const k of g.keys ?? []) {
    await addUser(a, k.accessKey, k.secretKey);
    await attachPolicy(a, k.accessKey, policy);
  }
  for (const old of g.revoked ?? []) await removeUser(a, old);
}

export async function dropMinioUsers(a: MinioAdmin, g: S3Grant): Promise<void> {
  for (const k of [...(g.keys ?? []).map((x) => x.accessKey), ...(g.revoked ?? [])]) await removeUser(a, k);
  await removePolicy(a, s3PolicyName(g.bucket));
}

/** True when the endpoint is a MinIO server on which these credentials administer users: asking
 *  for a user that does not exist gets "no such user" there, and an error anywhere else. */
export async function canManageUsers(a: MinioAdmin): Promise<boolean> {
  return userInfo(a, 'berth-probe-no-such-user').then((u) => u === null, () => false);
}
