// An app's resource limits and capabilities: stored with the app, copied into each new release
// (a rollback brings its release's own back), changed through the same zero-downtime rollout
// as a config change.
import { BerthError } from '../../lib/errors.js';
import { effectiveLimits, type Limits } from '../../lib/limits.js';
import * as v from '../../lib/validate.js';
import type { Ctx } from '../context.js';
import { deploy, type DeployResult, type Emit } from '../deploy/engine.js';

export interface LimitsChange {
  memory?: number; cpus?: number; pids?: number; cap_add?: string[]; cap_remove?: string[]; deploy?: boolean; lockTimeoutMs?: number; actor: string;
}

/** The app's own settings after a change (pure): given values replace, capabilities add and remove. */
export function changedLimits(own: Partial<Limits>, c: Omit<LimitsChange, 'actor'>): Partial<Limits> {
  const caps = new Set([...own.cap_add ?? [], ...c.cap_add ?? []]);
  for (const x of c.cap_remove ?? []) caps.delete(x);
  return {
    ...own,
    ...(c.memory !== undefined ? { memory_mb: c.memory } : {}), ...(c.cpus !== undefined ? { cpus: c.cpus } : {}),
    ...(c.pids !== undefined ? { pids: c.pids } : {}),
    ...(caps.size || own.cap_add ? { cap_add: [...caps].sort() } : {}),
  };
}

export const ownLimits = (row: { limits: string }) => JSON.parse(row.limits) as Partial<Limits>;

export async function changeLimits(ctx: Ctx, name: string, c: LimitsChange, emit: Emit): Promise<{ limits: Limits; deploy: DeployResult | null }> {
  const a = ctx.store.getApp(v.appName(name));
  if (!a) throw new BerthError('not_found', `app ${name} not found`, 'list apps with: berth apps list');
  const before = effectiveLimits(ownLimits(a));
  const own = changedLimits(ownLimits(a), c);
  const after = effectiveLimits(own);
  const changed = JSON.stringify(before) !== JSON.stringify(after);
  ctx.store.setAppLimits(a.name, own);
  ctx.store.audit({ actor: c.actor, action: 'apps.limits', app: a.name, result: changed ? 'succeeded' : 'unchanged', detail: { before, after } });
  if (!changed || c.deploy === false || !a.live_release) return { limits: after, deploy: null };
  const d = await deploy(ctx, { app: a.name, kind: 'config', actor: c.actor, lockTimeoutMs: c.lockTimeoutMs, note: 'limits change' }, emit);
  return { limits: after, deploy: d };
}
