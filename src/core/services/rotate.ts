// Credential rotation with zero downtime: add the new credential beside the old one, roll out a
// release that uses it (the same path as any deploy), then revoke the old one. If the rollout
// fails, the new credential is withdrawn and the app keeps running with the old one.
import { BerthError } from '../../lib/errors.js';
import type { PgGrant, RedisGrant, S3Grant, ServiceName } from '../../services/model.js';
import type { Ctx } from '../context.js';
import { deploy, type DeployResult, type Emit } from '../deploy/engine.js';
import { grantsOf, newS3Key, newSecret, provisionApp, storeGrant } from './services.js';

export interface RotateRequest { app: string; services?: ServiceName[]; actor: string; lockTimeoutMs?: number }

function steps(ctx: Ctx, app: string, which: ServiceName[]) {
  const g = grantsOf(ctx, app);
  const plan: { service: ServiceName; add: () => void; commit: () => void; undo: () => void }[] = [];
  if (which.includes('postgres') && g.postgres) {
    const pg: PgGrant = g.postgres;
    const old = pg.active;
    const next = old === 'a' ? 'b' : 'a';
    plan.push({
      service: 'postgres',
      add: () => storeGrant(ctx, app, 'postgres', { ...pg, logins: { ...pg.logins, [next]: newSecret() }, active: next }),
      commit: () => { const cur = grantsOf(ctx, app).postgres!; storeGrant(ctx, app, 'postgres', { ...cur, logins: { ...cur.logins, [old]: null } }); },
      undo: () => storeGrant(ctx, app, 'postgres', { ...pg, logins: { ...pg.logins, [next]: null }, active: old }),
    });
  }
  if (which.includes('redis') && g.redis) {
    const rd: RedisGrant = g.redis;
    const fresh = newSecret();
    plan.push({
      service: 'redis',
      add: () => storeGrant(ctx, app, 'redis', { ...rd, passwords: [rd.active, fresh], active: fresh }),
      commit: () => storeGrant(ctx, app, 'redis', { ...rd, passwords: [fresh], active: fresh }),
      undo: () => storeGrant(ctx, app, 'redis', rd),
    });
  }
  if (which.includes('s3') && g.s3?.keys) {
    const s3: S3Grant = g.s3;
    const keys = g.s3.keys;
    const fresh = newS3Key(app);
    plan.push({
      service: 's3',
      add: () => storeGrant(ctx, app, 's3', { ...s3, ...fresh, keys: [...keys, fresh] }),
      commit: () => storeGrant(ctx, app, 's3', { ...s3, ...fresh, keys: [fresh], revoked: keys.map((k) => k.accessKey) }),
      undo: () => storeGrant(ctx, app, 's3', { ...s3, revoked: [fresh.accessKey] }),
    });
  }
  return plan;
}

/** Only MinIO users can be rotated: s3rver and an external S3 without MinIO's admin API share one key. */
const rotatable = (ctx: Ctx, app: string, s: ServiceName) => s !== 's3' || !!grantsOf(ctx, app).s3?.keys;

export async function rotate(ctx: Ctx, req: RotateRequest, emit: Emit): Promise<{ rotated: ServiceName[]; deploy: DeployResult | null }> {
  const app = ctx.store.getApp(req.app);
  if (!app) throw new BerthError('not_found', `app ${req.app} not found`);
  const has = ctx.store.appServices(app.name) as ServiceName[];
  const which = req.services?.length ? req.services : has.filter((s) => rotatable(ctx, app.name, s));
  if (which.includes('s3') && has.includes('s3') && !rotatable(ctx, app.name, 's3')) {
    throw new BerthError('invalid', `${app.name} uses a shared S3 key (s3rver's fixed key, or the key given for an external S3 without MinIO's admin API): there is no per-app key to rotate`,
      'rotate --db and/or --redis; object storage keys are per app (and rotatable) on MinIO');
  }
  const missing = which.filter((s) => !has.includes(s));
  if (missing.length) throw new BerthError('invalid', `${app.name} has no ${missing.join(', ')}`);
  const plan = steps(ctx, app.name, which);
  const services = has;
  emit({ type: 'progress', line: `adding new credentials for ${which.join(', ')} beside the old ones` });
  plan.forEach((s) => s.add());
  let result: DeployResult | null = null;
  try {
    await provisionApp(ctx, app.name, services);
    if (app.live_release) {
      emit({ type: 'progress', line: 'rolling out a release that uses the new credentials' });
      result = await deploy(ctx, { app: app.name, kind: 'config', actor: req.actor, lockTimeoutMs: req.lockTimeoutMs }, emit);
    }
  } catch (e) {
    plan.forEach((s) => s.undo());
    await provisionApp(ctx, app.name, services).catch(() => undefined);
    ctx.store.audit({ actor: req.actor, action: 'apps.rotate', app: app.name, result: 'failed', detail: { services: which } });
    throw e;
  }
  emit({ type: 'progress', line: 'revoking the old credentials' });
  plan.forEach((s) => s.commit());
  await provisionApp(ctx, app.name, services, { terminateClosed: true });
  // Releases from before the rotation hold revoked credentials: none may serve again warm.
  for (const r of ctx.store.releasesOf(app.name).filter((x) => x.state === 'warm')) ctx.store.setReleaseState(r.id, 'warm', new Date().toISOString());
  ctx.hooks.afterDeploy?.();
  ctx.store.audit({ actor: req.actor, action: 'apps.rotate', app: app.name, result: 'succeeded', detail: { services: which } });
  return { rotated: which, deploy: result };
}
