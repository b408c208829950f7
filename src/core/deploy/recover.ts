// After a crash or restart: finish or roll back interrupted deploys from their journal, then
// make the containers and routes match the state. Also run periodically, so a restarted
// Docker Engine or Caddy is repaired without anyone acting.
import { asBerthError } from '../../lib/errors.js';
import type { Unit } from '../../runtime/types.js';
import type { ReleaseRow } from '../../state/store.js';
import type { Ctx } from '../context.js';
import { relName, retireRelease, undoBeforeSwitch } from './engine.js';
import { waitHealthy } from './health.js';
import { withLockIfFree } from './lock.js';

export interface RecoveryReport { finished: number[]; rolledBack: number[]; restarted: string[]; removed: string[]; routes: string[] }

/** Resolves deploys that were running when the previous daemon died. */
export async function recoverDeploys(ctx: Ctx): Promise<Pick<RecoveryReport, 'finished' | 'rolledBack'>> {
  const out = { finished: [] as number[], rolledBack: [] as number[] };
  for (const d of ctx.store.runningDeploys()) {
    const target = d.release_id ? ctx.store.getRelease(d.release_id) : undefined;
    if (target && ctx.store.stepDone(d.id, 'switch')) {
      ctx.store.finishDeploy(d.id, 'succeeded', 'completed after a daemon restart (the switch had happened)');
      ctx.store.audit({ actor: 'berth', action: `${d.kind}.recover`, app: d.app, result: 'succeeded', detail: { deploy: d.id } });
      out.finished.push(d.id);
    } else {
      if (target) {
        const wasRunning = d.kind === 'rollback' && (target.state === 'warm' || target.state === 'live');
        await undoBeforeSwitch(ctx, target, wasRunning, null);
      }
      ctx.store.finishDeploy(d.id, 'failed', 'interrupted by a daemon restart before the switch; rolled back');
      ctx.store.audit({ actor: 'berth', action: `${d.kind}.recover`, app: d.app, result: 'rolled back', detail: { deploy: d.id } });
      out.rolledBack.push(d.id);
    }
    const lock = ctx.store.getLock(d.app);
    if (lock) ctx.store.unlock(d.app, lock.deploy_id);
  }
  for (const l of ctx.store.staleLocks(ctx.boot)) ctx.store.unlock(l.app, l.deploy_id);
  return out;
}

/** Makes one app's containers match its state: the live release serves, warm ones run, nothing else. */
async function reconcileApp(ctx: Ctx, app: string, units: Unit[], report: RecoveryReport): Promise<void> {
  const row = ctx.store.getApp(app)!;
  const releases = ctx.store.releasesOf(app);
  const byName = new Map(releases.map((r) => [relName(r), r] as const));
  const live = row.live_release ? ctx.store.getRelease(row.live_release) : undefined;
  for (const u of units) {
    const r = byName.get(u.release);
    const wanted = r && (r.id === live?.id || r.state === 'warm');
    if (!wanted) {
      await ctx.runtime.remove(u);
      report.removed.push(u.name);
    }
  }
  if (live) {
    let unit = units.find((u) => u.release === relName(live));
    if (!unit || !unit.running || !unit.ip) {
      // gone, stopped, or cut off the network (e.g. the network was removed by hand)
      unit = await restartRelease(ctx, live, unit);
      report.restarted.push(`${app} ${relName(live)}`);
    }
    if (!unit.serving) await ctx.runtime.activate(unit);
  }
  for (const r of releases.filter((x) => x.state === 'warm')) {
    const u = units.find((x) => x.release === relName(r));
    if (!u || !u.running || !u.ip) await retireRelease(ctx, r);
  }
}

async function restartRelease(ctx: Ctx, r: ReleaseRow, old: Unit | undefined): Promise<Unit> {
  if (old) await ctx.runtime.remove(old);
  const unit = await ctx.runtime.start({
    app: r.app, release: relName(r), process: 'web', image: r.image_id ?? r.image,
    env: ctx.cipher.decryptJSON<Record<string, string>>(r.env), port: r.port,
  });
  await waitHealthy(ctx.runtime, unit, r.health_path, r.port, ctx.settings.deploy_timeout_ms, new AbortController().signal);
  return unit;
}

/** True when an app's containers, as last listed, already match its state. */
function looksSettled(ctx: Ctx, app: string, units: Unit[]): boolean {
  const row = ctx.store.getApp(app)!;
  const wanted = new Set(ctx.store.releasesOf(app).filter((r) => r.id === row.live_release || r.state === 'warm').map(relName));
  const live = row.live_release ? relName(ctx.store.getRelease(row.live_release)!) : null;
  return units.length === wanted.size && units.every((u) => wanted.has(u.release) && u.running && !!u.ip && (u.release !== live || u.serving));
}

/** One pass over every app not being deployed right now, then the proxy. A cheap listing
 *  finds the apps that look off; each is then repaired under its lock from a fresh listing,
 *  so a deploy that finished meanwhile is never undone from stale data. */
export async function reconcile(ctx: Ctx): Promise<RecoveryReport> {
  const report: RecoveryReport = { finished: [], rolledBack: [], restarted: [], removed: [], routes: [] };
  const units = await ctx.runtime.list();
  const apps = new Set(ctx.store.listApps().map((a) => a.name));
  for (const u of units.filter((x) => !apps.has(x.app))) {
    await ctx.runtime.remove(u);
    report.removed.push(u.name);
  }
  for (const app of apps) {
    if (looksSettled(ctx, app, units.filter((u) => u.app === app))) continue;
    await withLockIfFree(ctx, app, async () => reconcileApp(ctx, app, await ctx.runtime.list(app), report))
      .catch((e) => ctx.log.error({ app, err: asBerthError(e).message }, 'reconcile failed for app'));
  }
  report.routes = await ctx.proxy.sync();
  if (report.removed.length || report.restarted.length || report.routes.length) ctx.log.info(report, 'reconciled');
  return report;
}

/** Stops warm releases whose window has passed. The lock is held only to take the release
 *  out of the warm set; stopping (with its drain timeout) happens outside it, so a deploy
 *  right after never waits for an old release to exit. */
export async function retireExpired(ctx: Ctx): Promise<void> {
  for (const r of ctx.store.warmReleasesDue(new Date().toISOString())) {
    const unit = await withLockIfFree(ctx, r.app, async () => {
      const fresh = ctx.store.getRelease(r.id);
      if (fresh?.state !== 'warm') return null;
      ctx.store.setReleaseState(r.id, 'stopped');
      return ctx.runtime.inspect(r.app, 'web', relName(r));
    }).catch((e) => { ctx.log.error({ app: r.app, err: asBerthError(e).message }, 'retiring a warm release failed'); return null; });
    if (unit && !unit.serving) {
      await ctx.runtime.stop(unit, ctx.settings.drain_timeout_ms)
        .then(() => ctx.runtime.remove(unit))
        .catch((e) => ctx.log.error({ app: r.app, err: asBerthError(e).message }, 'stopping a retired release failed'));
    }
  }
}
