// How berth reaches each shared service (its own container, or an external server), with the
// administrator's secret: one record per service, stored encrypted.
import { randomBytes } from 'node:crypto';
import { S3RVER_ACCESS_KEY } from '../../state/service-ports.js';
import { type ServiceName, SERVICES } from '../../provisioning/model.js';
import type { ServiceSlot } from '../../runtime/types.js';
import type { Ctx } from '../context.js';

export const newSecret = () => randomBytes(24).toString('base64url');

/** How berth reaches a service: its own container, or an external server (a database VM,
 *  RDS, a managed Redis, an S3 provider) given by the operator. */
export interface ServiceRecord {
  mode: 'container' | 'external';
  password: string;
  host?: string; port?: number; user?: string; // external postgres and redis
  endpoint?: string; region?: string; accessKey?: string; // external s3 (password: the secret key)
  /** s3: berth creates a key (Garage) or user (MinIO) per app */
  users?: boolean;
  /** bundled s3: which store runs (absent in records from before Garage: MinIO when `users`, else s3rver) */
  store?: 'garage' | 'minio' | 's3rver';
  /** bundled store: the image it was started from (pinned: its data must stay readable); a
   *  bundled Garage without one runs berth's local build */
  image?: string;
  /** bundled store: the domain Caddy serves it at (berth services expose s3) */
  publicDomain?: string;
  /** bundled Garage: `password` is the root admin token (its config file's), `token` the scoped
   *  one berth provisions with, `rpcSecret` the RPC secret of its one node */
  token?: string;
  rpcSecret?: string;
  /** bundled store: runs beside the usual place (the Garage `berth services move s3` brought up
   *  next to a MinIO: `<instance>-s3-garage`), absent for `<instance>-s3` */
  slot?: ServiceSlot;
  /** bundled PostgreSQL: the pass its WAL archive's repository is encrypted with (pitr.ts) */
  archiveCipher?: string;
  /** bundled PostgreSQL: its cluster's system id (its archive's directory on a target) */
  archiveSystemId?: string;
  /** bundled PostgreSQL restored from its archive by restore-host: it keeps the system id, and its
   *  archive goes to a directory of its own on the targets (`<id>-<generation>`), never into the
   *  one it came from, which may hold newer files than the copy it was restored from */
  archiveGeneration?: string;
}

/** The service's record, created with a fresh admin password the first time. */
export function serviceRecord(ctx: Ctx, s: ServiceName): ServiceRecord {
  const row = ctx.store.getService(s);
  if (row) return ctx.cipher.decryptJSON<ServiceRecord>(row.secret);
  // object storage is chosen (and recorded) when it first starts: firstS3Record
  if (s === 's3') return { mode: 'container', password: S3RVER_ACCESS_KEY };
  const rec: ServiceRecord = { mode: 'container', password: newSecret() };
  ctx.store.setService(s, rec.mode, ctx.cipher.encryptJSON(rec));
  return rec;
}

/** Where the service's container runs (a moved object store's slot); none for the usual place. */
export const slotOf = (ctx: Ctx, s: ServiceName): ServiceSlot | undefined => (s === 's3' && ctx.store.getService(s) ? serviceRecord(ctx, s).slot : undefined);

export const enabledServices = (ctx: Ctx): ServiceName[] => SERVICES.filter((s) => ctx.settings.services.includes(s));
