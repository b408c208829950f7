// An app's bucket in the platform backup (`berth backup schedule NAME --platform-bucket`): its
// objects are copied out of the object store into the staged tree as files, and back into the
// app's bucket (made anew by provisioning, under the same key) by restore-host. rclone does both
// inside berth/pg-tools with the app's own key, the one its releases get: it reads no other bucket.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Ctx } from '../context.js';
import { serviceEnv } from '../shared-services/services.js';
import { rclone, type S3Target } from './offsite.js';

/** The app's bucket as an rclone remote: the endpoint and key its releases get. */
function bucketOf(ctx: Ctx, app: string): S3Target | null {
  const e = serviceEnv(ctx, app);
  if (!e.S3_BUCKET) return null;
  return { endpoint: e.S3_ENDPOINT!, bucket: e.S3_BUCKET, region: e.S3_REGION ?? 'us-east-1', prefix: '',
    access_key: e.S3_ACCESS_KEY!, secret_key: e.S3_SECRET_KEY! };
}

/** Copies the app's objects to `<dir>/<into>` (the staged tree); false when it has no bucket. */
export async function stageBucket(ctx: Ctx, app: string, dir: string, into: string): Promise<boolean> {
  const b = bucketOf(ctx, app);
  if (!b) return false;
  await rclone(ctx, app, b, 'copy-tree-from', { KEY_AT: `${b.bucket}/`, STAGED: into }, dir);
  return true;
}

/** Where restore-host leaves the buckets' objects it unpacked, one directory per app, for restoreData. */
export const restoredBucketsDir = (backups: string) => join(backups, 'restored-buckets');

/** Puts the objects restore-host left for the app back into its bucket, then removes them there. */
export async function restoreBucket(ctx: Ctx, app: string, backups: string): Promise<string | null> {
  const from = join(restoredBucketsDir(backups), app);
  if (!existsSync(from)) return null;
  const b = bucketOf(ctx, app);
  if (!b) return 'its bucket\'s objects are in the backup, but the app has no bucket now';
  await rclone(ctx, app, b, 'put-tree', { KEY_AT: b.bucket }, from);
  rmSync(from, { recursive: true, force: true });
  return 'bucket restored';
}
