// Object storage choices: bundled Garage (the default: a key per app), a bundled MinIO (kept on
// platforms that chose it before, or asked for by name: a user per app), s3rver (no keys at all:
// only when asked for by name), or an external S3 (MinIO's admin API: a user per app; anything
// else: the operator's one key). The grant an app gets, what apps are told, and where browsers
// reach the store.
import { randomBytes } from 'node:crypto';
import { BerthError } from '../../lib/errors.js';
import { bucketName, s3AccessKey, type S3Grant, type S3Key } from '../../provisioning/model.js';
import { GARAGE_REGION, S3RVER_ACCESS_KEY } from '../../state/service-ports.js';
import type { Ctx } from '../context.js';
import { newSecret, type ServiceRecord, serviceRecord } from './records.js';

export const S3_REGION = 'us-east-1';
export const MINIO_ROOT_USER = 'berth-admin';

export type BundledStore = 'garage' | 'minio' | 's3rver';

/** Which store a bundled record runs; records from before Garage have no `store` (pure). */
export const bundledStore = (rec: ServiceRecord): BundledStore => rec.store ?? (rec.users ? 'minio' : 's3rver');

/** Said wherever object storage shows (berth up, apps create, berth services) while it is true. */
export const SHARED_KEY_WARNING = 'every app can read and write every bucket: s3rver has no keys of its own (it serves unsigned requests too); ' +
  'use Garage on a new platform (berth up), or an external S3 (berth services set s3)';
/** MinIO releases before 2025-10-15 carry CVE-2025-62506; a tag RELEASE.YYYY-MM-DD... says which. */
const MINIO_FIXED = '2025-10-15';

/** Warnings about the object store a record describes (pure). */
export function objectStoreWarnings(rec: ServiceRecord): string[] {
  if (rec.mode === 'external') {
    return rec.users ? [] : ['all apps use the one key given for this S3: any app can reach every bucket that key can'];
  }
  const store = bundledStore(rec);
  if (store === 's3rver') return [SHARED_KEY_WARNING];
  if (store === 'minio') {
    const date = /RELEASE\.(\d{4}-\d{2}-\d{2})/.exec(rec.image ?? '')?.[1] ?? null;
    const old = date === null || date < MINIO_FIXED;
    return [`the bundled MinIO (${rec.image}) is no longer maintained upstream (source-only since October 2025, images no longer published)` +
      (old ? `; releases before ${MINIO_FIXED} carry CVE-2025-62506` : '') +
      '; move it to Garage with: berth services move s3 --to garage (new keys per app, data copied, MinIO kept until you remove it; ' +
      'see what it would copy with --dry-run)'];
  }
  return [];
}

/** What app authors get from the store, said in `apps show` (pure). */
export function objectStoreNotes(rec: ServiceRecord): string | null {
  if (rec.mode === 'container' && bundledStore(rec) === 'garage') {
    return 'Garage: region "garage", path-style URLs (http://host/bucket/key); no bucket policies, no versioning, no object lock';
  }
  return null;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Object storage is chosen the first time it starts, and the choice sticks (stores keep data in
 *  different layouts): Garage unless the operator named another (its image: newGarageRecord). MinIO must be
 *  pullable (no local fallback is chosen for it). s3rver only when asked for by name. */
export async function firstS3Record(ctx: Ctx, progress: (l: string) => void): Promise<ServiceRecord> {
  if (ctx.store.getService('s3')) return serviceRecord(ctx, 's3');
  const choice = ctx.settings.object_store;
  let rec: ServiceRecord;
  if (choice === 'garage') {
    rec = newGarageRecord(ctx);
  } else if (choice === 'minio') {
    const image = ctx.settings.minio_image;
    const can = await ctx.runtime.pullable(image, progress);
    if (!can.ok) {
      throw new BerthError('unavailable', `cannot pull ${image} (${can.reason.replace('_', ' ')}): ${can.message}`,
        'MinIO images are no longer published: use Garage (berth up --object-store garage), or name a MinIO image you built (--minio-image)');
    }
    rec = { mode: 'container', store: 'minio', users: true, image, accessKey: MINIO_ROOT_USER, password: newSecret() };
  } else {
    rec = { mode: 'container', store: 's3rver', password: S3RVER_ACCESS_KEY };
  }
  ctx.store.setService('s3', rec.mode, ctx.cipher.encryptJSON(rec));
  return rec;
}

/** A bundled Garage's record, with new secrets (the root admin token in `password`). It names
 *  the published image; where no registry answers, the runtime runs its own build of the same
 *  release instead, decided at each start (a pull that fails once fixes nothing). */
export function newGarageRecord(ctx: Ctx): ServiceRecord {
  return { mode: 'container', store: 'garage', users: true, region: GARAGE_REGION, image: ctx.settings.garage_image, password: hex(32), rpcSecret: hex(32) };
}

/** A key of the app's own: the access key names the app (a short random tail tells rotations
 *  apart), the secret is random. Garage and MinIO both take keys berth makes. */
export const newS3Key = (app: string): S3Key => ({ accessKey: s3AccessKey(app, randomBytes(3).toString('hex')), secretKey: newSecret() });

/** The app's bucket, with a key of its own where berth can make keys (Garage, MinIO); else the
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
 *  the bundled store is exposed at (with a non-default HTTPS port); null when not reachable. */
export function s3PublicEndpoint(ctx: Ctx, rec = serviceRecord(ctx, 's3')): string | null {
  if (rec.mode === 'external') return rec.endpoint!;
  return rec.publicDomain ? `https://${rec.publicDomain}${ctx.settings.https_port === 443 ? '' : `:${ctx.settings.https_port}`}` : null;
}
