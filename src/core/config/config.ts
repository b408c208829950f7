// User config per app, encrypted at rest. Changing it rolls out a new release through the
// same zero-downtime path as a deploy.
import { BerthError } from '../../lib/errors.js';
import { redactValues } from '../../lib/secrets.js';
import * as v from '../../lib/validate.js';
import type { Ctx } from '../context.js';
import { deploy, type DeployResult, type Emit } from '../deploy/engine.js';

function mustApp(ctx: Ctx, name: string) {
  const a = ctx.store.getApp(v.appName(name));
  if (!a) throw new BerthError('not_found', `app ${name} not found`, 'list apps with: berth apps list');
  return a;
}

export function listConfig(ctx: Ctx, name: string, reveal: boolean): Record<string, string> {
  const a = mustApp(ctx, name);
  const env = Object.fromEntries(Object.entries(ctx.store.configOf(a.name)).map(([k, enc]) => [k, ctx.cipher.decrypt(enc)]));
  return redactValues(env, reveal);
}

export interface ConfigChange { set?: Record<string, string>; unset?: string[]; deploy?: boolean; lockTimeoutMs?: number; actor: string }

export async function changeConfig(ctx: Ctx, name: string, c: ConfigChange, emit: Emit): Promise<{ keys: string[]; deploy: DeployResult | null }> {
  const a = mustApp(ctx, name);
  const set = Object.fromEntries(Object.entries(c.set ?? {}).map(([k, val]) => [v.envKey(k, `set.${k}`), v.envValue(val, `set.${k}`)]));
  const unset = (c.unset ?? []).map((k, i) => v.envKeyName(k, `unset[${i}]`));
  if (!Object.keys(set).length && !unset.length) throw new BerthError('invalid', 'nothing to change', 'berth config set NAME KEY=VALUE ...');
  const before = ctx.store.configOf(a.name);
  const changed = Object.entries(set).some(([k, val]) => !before[k] || ctx.cipher.decrypt(before[k]!) !== val) || unset.some((k) => k in before);
  ctx.store.tx(() => {
    for (const [k, val] of Object.entries(set)) ctx.store.setConfig(a.name, k, ctx.cipher.encrypt(val));
    for (const k of unset) ctx.store.unsetConfig(a.name, k);
  });
  const keys = [...Object.keys(set), ...unset];
  ctx.store.audit({ actor: c.actor, action: 'config.change', app: a.name, result: changed ? 'succeeded' : 'unchanged', detail: { set: Object.keys(set), unset } });
  if (!changed || c.deploy === false || !ctx.store.getApp(a.name)!.live_release) return { keys, deploy: null };
  return { keys, deploy: await deploy(ctx, { app: a.name, kind: 'config', actor: c.actor, lockTimeoutMs: c.lockTimeoutMs }, emit) };
}
