// Object storage choices: MinIO (a user per app) or s3rver (one shared key) when bundled, MinIO
// or plain S3 when external; the grant an app gets in it, and where browsers reach it.
import { randomBytes } from 'node:crypto';
import { BerthError } from '../../lib/errors.js';
import { pullHint } from '../../runtime/pull-failure.js';
import { S3RVER_ACCESS_KEY } from '../../runtime/service-ports.js';
import { bucketName, s3AccessKey, type S3Grant, type S3Key } from '../../provisioning/model.js';
import type { Ctx } from '../context.js';
import { newSecret, type ServiceRecord, serviceRecord } from './records.js';

export const S3_REGION = 'us-east-1';
const MINIO_ROOT_USER = 'berth-admin';

/** Object storage is chosen the first time it starts: MinIO, with a user per app, if its image
 *  can be had; else s3rver, built locally, with one shared key. The choice sticks, as the two
 *  keep their data in different layouts. */
export async function firstS3Record(ctx: Ctx, progress: (l: string) => void): Promise<ServiceRecord> {
  if (ctx.store.getService('s3')) return serviceRecord(ctx, 's3');
  const image = ctx.settings.minio_image;
  const can = await ctx.runtime.pullable(image, progress);
  // Only "no registry answers" settles the choice for s3rver: a typo in the tag, missing
  // credentials, a rate limit or a slow registry are reported, and the next berth up tries again.
  if (!can.ok && can.reason !== 'offline') {
    throw new BerthError('unavailable', `cannot pull ${image} (${can.reason.replace('_', ' ')}): ${can.message}`,
      `${pullHint(can.reason, image)}; object storage is chosen when this succeeds (or when no registry answers at all)`, { reason: can.reason });
  }
  const rec: ServiceRecord = can.ok
    ? { mode: 'container', users: true, image, accessKey: MINIO_ROOT_USER, password: newSecret() }
    : { mode: 'container', password: S3RVER_ACCESS_KEY };
  if (!rec.users) {
    progress(`cannot pull ${image}: no registry answers from this host; ` +
      'object storage is s3rver, built locally; it has no users, so apps share one key');
  }
  ctx.store.setService('s3', rec.mode, ctx.cipher.encryptJSON(rec));
  return rec;
}

/** A MinIO user of the app's own: the access key names the app (a short random tail tells
 *  rotations apart), the secret is random. */
export const newS3Key = (app: string): S3Key => ({ accessKey: s3AccessKey(app, randomBytes(3).toString('hex')), secretKey: newSecret() });

/** The app's bucket, with a user of its own where berth can create users (MinIO); else the
 *  shared key: s3rver's fixed one, or the key the operator gave for an external S3. */
export function s3Grant(ctx: Ctx, app: string): S3Grant {
  const rec = serviceRecord(ctx, 's3');
  const region = rec.region ?? S3_REGION;
  if (rec.users) { const key = newS3Key(app); return { bucket: bucketName(app), ...key, region, keys: [key] }; }
  return rec.mode === 'external'
    ? { bucket: bucketName(app), accessKey: rec.accessKey!, secretKey: rec.password, region }
    : { bucket: bucketName(app), accessKey: S3RVER_ACCESS_KEY, secretKey: S3RVER_ACCESS_KEY, region };
}

/** Where browsers reach object storage (presigned URLs): an external endpoint, or the domain
 *  the bundled MinIO is exposed at (with a non-default HTTPS port); null when not reachable. */
export function s3PublicEndpoint(ctx: Ctx, rec = serviceRecord(ctx, 's3')): string | null {
  if (rec.mode === 'external') return rec.endpoint!;
  return rec.publicDomain ? `https://${rec.publicDomain}${ctx.settings.https_port === 443 ? '' : `:${ctx.settings.https_port}`}` : null;
}
