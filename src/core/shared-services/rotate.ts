// Credential rotation with zero downtime: add the new credential beside the old one, roll out a
// release that uses it (the same path as any deploy), then revoke the old one. If the rollout
// fails, the new credential is withdrawn and the app keeps running with the old one. A rotation
// cut short by a crash is settled when the daemon starts again (settleRotations).
import { asBerthError, BerthError } from '../../lib/errors.js';
import type { AppGrants, ServiceName } from '../../provisioning/model.js';
import { begin, commit, envUsesActive, inProgress, type Rotatable, undo } from '../../provisioning/rotation.js';
import { type Ctx, pauseIfHooked } from '../context.js';
import { deploy, type DeployResult, type Emit } from '../deploy/engine.js';
import { grantsOf, provisionApp, storeGrant } from './services.js';
import { newS3Key } from './object-storage.js';
import { newSecret } from './records.js';

export interface RotateRequest { app: string; services?: ServiceName[]; actor: string; lockTimeoutMs?: number }

function storeAll(ctx: Ctx, app: string, g: AppGrants): void {
  for (const s of ['postgres', 'redis', 's3'] as const) if (g[s]) storeGrant(ctx, app, s, g[s]);
}

/** Only per-app keys (Garage keys, MinIO users) can be rotated: s3rver and an external S3 without MinIO's admin API share one key. */
const rotatable = (ctx: Ctx, app: string, s: ServiceName) => s !== 's3' || !!grantsOf(ctx, app).s3?.keys;

/** Revokes the old credentials now that nothing uses them, and keeps older warm releases, which
 *  hold them, from ever serving again. */
async function revokeOld(ctx: Ctx, app: string, which: Rotatable[]): Promise<void> {
  storeAll(ctx, app, which.reduce(commit, grantsOf(ctx, app)));
  await provisionApp(ctx, app, ctx.store.appServices(app) as ServiceName[], { terminateClosed: true });
  for (const r of ctx.store.releasesOf(app).filter((x) => x.state === 'warm')) ctx.store.setReleaseState(r.id, 'warm', new Date().toISOString());
  ctx.hooks.afterDeploy?.();
}

/** Finishes rotations a crash cut short: committed where the live release already uses the new
 *  credential (or there is no live release), otherwise taken back. */
export async function settleRotations(ctx: Ctx, only?: string): Promise<string[]> {
  const settled: string[] = [];
  for (const a of ctx.store.listApps().filter((x) => !only || x.name === only)) {
    const g = grantsOf(ctx, a.name);
    const half = inProgress(g);
    if (!half.length) continue;
    const live = a.live_release ? ctx.store.getRelease(a.live_release) : undefined;
    const env = live ? ctx.cipher.decryptJSON<Record<string, string>>(live.env) : null;
    const forward = half.filter((s) => !env || envUsesActive(env, g, s));
    const back = half.filter((s) => !forward.includes(s));
    if (back.length) {
      storeAll(ctx, a.name, back.reduce(undo, g));
      await provisionApp(ctx, a.name, ctx.store.appServices(a.name) as ServiceName[]);
    }
    if (forward.length) await revokeOld(ctx, a.name, forward);
    ctx.store.audit({ actor: 'berth', action: 'apps.rotate.recover', app: a.name, result: 'succeeded', detail: { committed: forward, undone: back } });
    settled.push(a.name);
  }
  return settled;
}

export async function rotate(ctx: Ctx, req: RotateRequest, emit: Emit): Promise<{ rotated: Rotatable[]; deploy: DeployResult | null }> {
  const app = ctx.store.getApp(req.app);
  if (!app) throw new BerthError('not_found', `app ${req.app} not found`);
  const has = ctx.store.appServices(app.name) as ServiceName[];
  const which = (req.services?.length ? req.services : has.filter((s) => rotatable(ctx, app.name, s))) as Rotatable[];
  if (which.includes('s3') && has.includes('s3') && !rotatable(ctx, app.name, 's3')) {
    throw new BerthError('invalid', `${app.name} uses a shared S3 key (s3rver's fixed key, or the key given for an external S3 without MinIO's admin API): there is no per-app key to rotate`,
      'rotate --db and/or --redis; object storage keys are per app (and rotatable) on Garage and MinIO');
  }
  const missing = which.filter((s) => !has.includes(s));
  if (missing.length) throw new BerthError('invalid', `${app.name} has no ${missing.join(', ')}`);
  if (ctx.rotating.has(app.name)) throw new BerthError('lock_held', `a rotation of ${app.name} is already running`, 'wait for it to finish');
  ctx.rotating.add(app.name);
  try {
    return await rotateNow(ctx, req, app, has, which, emit);
  } finally {
    ctx.rotating.delete(app.name);
  }
}

async function rotateNow(ctx: Ctx, req: RotateRequest, app: { name: string; live_release: number | null }, has: ServiceName[], which: Rotatable[], emit: Emit) {
  await settleRotations(ctx, app.name); // from a settled state: one cut short by a crash is finished first
  const before = grantsOf(ctx, app.name);
  emit({ type: 'progress', line: `adding new credentials for ${which.join(', ')} beside the old ones` });
  storeAll(ctx, app.name, which.reduce((g, s) => begin(g, s, { secret: newSecret(), s3Key: newS3Key(app.name) }), before));
  let result: DeployResult | null = null;
  try {
    await provisionApp(ctx, app.name, has);
    await pauseIfHooked(ctx, 'rotate.added'); // crash tests kill the daemon here
    if (app.live_release) {
      emit({ type: 'progress', line: 'rolling out a release that uses the new credentials' });
      result = await deploy(ctx, { app: app.name, kind: 'config', actor: req.actor, lockTimeoutMs: req.lockTimeoutMs }, emit);
    }
  } catch (e) {
    storeAll(ctx, app.name, which.reduce(undo, grantsOf(ctx, app.name)));
    const undone = await provisionApp(ctx, app.name, has).then(() => null, (ue: unknown) => asBerthError(ue).message);
    ctx.store.audit({ actor: req.actor, action: 'apps.rotate', app: app.name, result: 'failed', detail: { services: which, undo_failed: undone } });
    if (undone) {
      // the app runs on its old credentials still; the new one may linger in the service until a re-run removes it
      ctx.log.error({ app: app.name, err: undone }, 'taking back a failed rotation\'s new credentials failed');
      const err = asBerthError(e);
      throw new BerthError(err.code, `${err.message}; taking the new credentials back failed too: ${undone}`,
        `the app keeps its old credentials; run berth apps rotate ${app.name} again to finish cleaning up`, err.details);
    }
    throw e;
  }
  emit({ type: 'progress', line: 'revoking the old credentials' });
  await revokeOld(ctx, app.name, which);
  ctx.store.audit({ actor: req.actor, action: 'apps.rotate', app: app.name, result: 'succeeded', detail: { services: which } });
  return { rotated: which, deploy: result };
}
