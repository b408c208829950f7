// Using an external server for a shared service (`berth services set postgres --external URL`):
// berth checks it can administer it, then provisions inside it and runs no container for it.
import { BerthError, ValidationError } from '../../lib/errors.js';
import { type ServiceName } from '../../provisioning/model.js';
import type { Ctx } from '../context.js';
import { externalAdminJob, failures } from './services.js';
import { type ServiceRecord, slotOf } from './records.js';

export interface ExternalInput { url?: string; endpoint?: string; region?: string; access_key?: string; secret_key?: string }

/** Parses what the operator gave into a service record (pure). */
export function externalRecord(s: ServiceName, i: ExternalInput): ServiceRecord {
  if (s === 's3') {
    if (!i.endpoint || !/^https?:\/\/[^\s/]+/.test(i.endpoint)) throw new ValidationError('endpoint', 'an http(s) URL is required', 'e.g. --endpoint https://s3.eu-west-1.amazonaws.com');
    if (!i.access_key || !i.secret_key) throw new ValidationError('access_key', 'an access key and a secret key are required');
    return { mode: 'external', endpoint: i.endpoint, region: i.region ?? 'us-east-1', accessKey: i.access_key, password: i.secret_key };
  }
  let u: URL;
  try { u = new URL(i.url ?? ''); } catch { throw new ValidationError('url', 'is not a URL', s === 'postgres' ? 'e.g. postgres://admin:PASSWORD@db-host:5432/postgres' : 'e.g. redis://default:PASSWORD@redis-host:6379'); }
  const protocols = s === 'postgres' ? ['postgres:', 'postgresql:'] : ['redis:'];
  if (!protocols.includes(u.protocol)) throw new ValidationError('url', `must start with ${protocols.map((p) => p.slice(0, -1)).join(' or ')}://`);
  if (!u.hostname || !u.password) throw new ValidationError('url', 'needs a host and the administrator\'s user and password');
  return {
    mode: 'external', host: u.hostname, port: Number(u.port || (s === 'postgres' ? 5432 : 6379)),
    user: decodeURIComponent(u.username || (s === 'postgres' ? 'postgres' : 'default')), password: decodeURIComponent(u.password),
  };
}

export async function setExternal(ctx: Ctx, s: ServiceName, input: ExternalInput, actor: string) {
  const rec = externalRecord(s, input);
  const slot = slotOf(ctx, s);
  const users = ctx.store.listApps().filter((a) => ctx.store.appService(a.name, s)).map((a) => a.name);
  if (users.length) {
    throw new BerthError('conflict', `apps ${users.join(', ')} already use berth's ${s}: moving them is not automatic`,
      'set the external service before creating apps, or delete those apps (with --purge after moving their data)');
  }
  const job = externalAdminJob(s, rec);
  if (job.postgres) job.postgres.status = true;
  if (job.redis) job.redis.status = true;
  if (job.s3) job.s3.detect = true;
  const result = await ctx.jobs(job);
  const errs = failures(result);
  if (errs.length) throw new BerthError('unavailable', `cannot administer the external ${s}: ${errs.join('; ')}`, 'check the address, the credentials and that berth\'s host can reach it; nothing was changed');
  if (s === 's3') rec.users = (result.s3 as { value?: { users?: boolean } }).value?.users === true;
  ctx.store.setService(s, 'external', ctx.cipher.encryptJSON(rec));
  // The container, if any, goes; its data directory stays on disk.
  await ctx.runtime.services.remove(s, slot);
  ctx.store.audit({ actor, action: 'services.set', result: 'succeeded', detail: { service: s, mode: 'external', host: rec.host ?? rec.endpoint } });
  return {
    service: s, mode: 'external', host: rec.host ?? rec.endpoint,
    isolation: s !== 's3' ? 'per-app database/user, as with the bundled service'
      : rec.users ? 'each app gets its own bucket and a MinIO user whose policy allows only that bucket'
        : 'each app gets its own bucket, but all apps use the key you gave: berth cannot create users in this S3 (only MinIO\'s admin API is supported), so any app can reach every bucket that key can',
  };
}
