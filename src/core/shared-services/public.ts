// The bundled object storage at a public domain (`berth services expose s3 --domain D`), so
// that browsers can use the presigned URLs apps hand out. Only Garage and MinIO are ever exposed:
// they check every signature against per-app keys, while s3rver lets in anyone at all.
import { BerthError } from '../../lib/errors.js';
import { domain as validDomain } from '../../lib/validate.js';
import type { RouteInput } from '../../proxy/types.js';
import type { Ctx } from '../context.js';
import { s3PublicEndpoint } from './object-storage.js';
import { serviceRecord } from './records.js';

export const S3_ROUTE_ID = 'berth-service-s3';

export const s3PublicDomain = (ctx: Ctx): string | null => {
  const rec = serviceRecord(ctx, 's3');
  return rec.mode === 'container' && rec.publicDomain ? rec.publicDomain : null;
};

export function s3PublicRoute(ctx: Ctx): RouteInput | null {
  const d = s3PublicDomain(ctx);
  if (!d) return null;
  const e = ctx.runtime.services.endpoint('s3', serviceRecord(ctx, 's3').slot);
  return { id: S3_ROUTE_ID, app: 's3', domains: [d], upstream: e.host, port: e.port };
}

export async function exposeS3(ctx: Ctx, rawDomain: string | null, actor: string) {
  const rec = serviceRecord(ctx, 's3');
  const domain = rawDomain === null ? null : validDomain(rawDomain);
  if (domain !== null) {
    if (!ctx.settings.services.includes('s3') || !ctx.store.getService('s3')) throw new BerthError('invalid', 'object storage is not running on this platform', 'start it with: berth up --services postgres,redis,s3');
    if (rec.mode === 'external') throw new BerthError('invalid', `object storage is external (${rec.endpoint}): apps already reach it at that endpoint`, 'nothing to expose');
    if (!rec.users) {
      throw new BerthError('invalid', 'the bundled object storage is s3rver, which lets in anyone (unsigned requests too): berth never exposes it',
        'use Garage instead (the default object store of a new platform), or an external S3');
    }
    const owner = ctx.store.domainOwner(domain);
    if (owner) throw new BerthError('conflict', `domain ${domain} is already used by app ${owner}`, `remove it from ${owner} first`);
  }
  const before = rec.publicDomain;
  ctx.store.setService('s3', rec.mode, ctx.cipher.encryptJSON({ ...rec, publicDomain: domain ?? undefined }));
  try {
    const route = s3PublicRoute(ctx);
    if (route) await ctx.proxy.ensureRoute(route);
    else await ctx.proxy.removeRoute('s3', S3_ROUTE_ID);
  } catch (e) {
    ctx.store.setService('s3', rec.mode, ctx.cipher.encryptJSON({ ...rec, publicDomain: before })); // Caddy refused: change nothing
    throw e;
  }
  ctx.store.audit({ actor, action: 'services.expose', result: 'succeeded', detail: { service: 's3', domain } });
  return {
    service: 's3', public_endpoint: s3PublicEndpoint(ctx),
    note: 'apps get S3_PUBLIC_ENDPOINT (or lose it) with their next release: berth deploy, rollback or config set',
  };
}
