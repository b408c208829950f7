// The serving process's copies between deploys (berth scale APP web=3). Caddy's active health
// checks do not run for dynamic upstreams (its reverse_proxy docs), and its passive ones see only
// refused connections: a copy that still answers but fails its health check (a stuck event loop,
// a lost database connection of its own) would keep its share of requests. So the daemon probes
// each copy, and one that fails FAILS_IN_A_ROW probes while another copy passes is replaced: a
// fresh copy of the same release starts, passes its health check and takes the copy's name
// (the deploy's switch: the name is never left without a container, which matters because
// Caddy holds one process-wide lock while it looks a name that resolves to nothing up, slowing
// every app), then the replaced one drains and goes. When no copy passes, the fault is the
// app's, not a copy's: nothing is replaced (a new copy would fail alike), `berth status` shows it.
import { asBerthError } from '../../lib/errors.js';
import type { Unit } from '../../runtime/types.js';
import type { ReleaseRow } from '../../state/store.js';
import type { Ctx } from '../context.js';
import { formationOf, processSpec, relName } from './execute.js';
import { passes, waitHealthy } from './health.js';
import { entryOf, primaryOf, replicasOf } from './processes.js';
import { drainCopies } from './scale.js';

export const FAILS_IN_A_ROW = 3;
/** A pass that comes a little early (timers drift) still checks an app that is due. */
const CLOCK_SLACK_MS = 100;

/** Which copies to replace now (pure): those failing FAILS_IN_A_ROW probes in a row, when at
 *  least one copy passes; and the failures in a row of each copy probed (unit id -> count). */
export function copiesToReplace(probed: { id: string; status: number | string }[], before: ReadonlyMap<string, number>)
  : { replace: string[]; fails: Map<string, number> } {
  const fails = new Map(probed.map((p) => [p.id, passes(p.status) ? 0 : (before.get(p.id) ?? 0) + 1] as const));
  const replace = probed.some((p) => passes(p.status)) ? probed.filter((p) => fails.get(p.id)! >= FAILS_IN_A_ROW).map((p) => p.id) : [];
  return { replace, fails };
}

/** One pass over the apps running more than one copy of their serving process, each checked
 *  when its interval has passed; says what it replaced. */
export async function checkCopies(ctx: Ctx, now = Date.now()): Promise<string[]> {
  const replaced: string[] = [];
  const { fails, checkedAt } = ctx.copyHealth;
  for (const app of [...checkedAt.keys()].filter((a) => !ctx.store.getApp(a))) { checkedAt.delete(app); fails.delete(app); }
  for (const row of ctx.store.listApps()) {
    const live = row.live_release ? ctx.store.getRelease(row.live_release) : undefined;
    const primary = live && primaryOf(live);
    if (!live || !primary || replicasOf(formationOf(ctx, row.name), primary) < 2) { fails.delete(row.name); continue; }
    // each app at its own pace: its health `interval` from a berth.yml, else copy_check_ms
    const health = entryOf(live, primary)?.health;
    if (now + CLOCK_SLACK_MS < (checkedAt.get(row.name) ?? 0) + (health?.interval_ms ?? ctx.settings.copy_check_ms)) continue;
    checkedAt.set(row.name, now);
    const copies = (await ctx.runtime.list(row.name))
      .filter((u) => u.release === relName(live) && u.process === primary && u.serving && u.running && !ctx.draining.has(u.id));
    const check = { path: live.health_path, port: live.port, ...(health ? { timeoutMs: health.timeout_ms } : {}) };
    const probed = await Promise.all(copies.map(async (u) => ({ id: u.id, status: await ctx.runtime.probe(u, check) })));
    const next = copiesToReplace(probed, fails.get(row.name) ?? new Map());
    fails.set(row.name, next.fails);
    for (const id of next.replace) {
      const sick = copies.find((u) => u.id === id)!;
      const done = await ctx.locks.whileFree(row.name, 'the daemon replacing an unhealthy copy', (signal) => replaceCopy(ctx, live, sick, signal))
        .catch((e: unknown) => { ctx.log.warn({ app: row.name, copy: sick.name, err: asBerthError(e).message }, 'replacing an unhealthy copy failed'); });
      if (done) replaced.push(`${row.name} ${relName(live)} copy ${sick.replica}`);
    }
  }
  return replaced;
}

async function replaceCopy(ctx: Ctx, live: ReleaseRow, sick: Unit, signal: AbortSignal): Promise<boolean> {
  // probed outside the lock: a deploy may have switched since; only the copy still serving is replaced
  const now = await ctx.runtime.list(live.app);
  if (ctx.store.getApp(live.app)?.live_release !== live.id || !now.some((u) => u.id === sick.id && u.serving && u.running)) return false;
  const fresh = await ctx.runtime.start(processSpec(ctx, live, sick.process, sick.replica));
  try {
    await waitHealthy(ctx.runtime, fresh, { path: live.health_path, port: live.port }, ctx.settings.deploy_timeout_ms, signal,
      `copy ${sick.replica} keeps its place meanwhile`);
    await ctx.runtime.activate(fresh);
  } catch (e) {
    await ctx.runtime.remove(fresh);
    throw e;
  }
  ctx.log.warn({ app: live.app, release: relName(live), copy: sick.replica, failedProbes: FAILS_IN_A_ROW }, 'replaced a copy that failed its health check');
  ctx.store.audit({ actor: 'berth', action: 'copy.replace', app: live.app, result: 'succeeded',
    detail: { release: relName(live), copy: sick.replica, reason: `failed ${FAILS_IN_A_ROW} health checks in a row while another copy passed` } });
  drainCopies(ctx, [sick]);
  return true;
}
