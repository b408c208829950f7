// After a crash or restart: finish or roll back interrupted deploys from their journal, then
// make the containers and routes match the state. Also run periodically, so a restarted
// Docker Engine or Caddy is repaired without anyone acting.
//
// The repair of an app runs as maintenance under its lock: any operation (a rollback, a
// deploy) cancels it and goes first. A live release that keeps going down is restarted with
// a growing pause between attempts, and one the runtime itself keeps restarting (its restart
// policy) is left to it: `berth status` says it is crash-looping, the operator decides.
import { asBerthError } from '../../lib/errors.js';
import type { Unit } from '../../runtime/types.js';
import type { ReleaseRow } from '../../state/store.js';
import type { Ctx } from '../context.js';
import { deploy } from './engine.js';
import { appNetworkFor } from '../shared-services/services.js';
import {
  commitSwitch, formationOf, processSpec, relName, removeUnits, retireRelease, sitesOf, startWorkers, undoBeforeSwitch, unitOf, unitsOf,
} from './execute.js';
import { type Formation, primaryOf, replicasOf, workersOf } from './processes.js';
import { siteOf } from './release-spec.js';
import { waitHealthy } from './health.js';

export interface RecoveryReport {
  finished: number[]; rolledBack: number[]; restarted: string[]; removed: string[]; routes: string[]; crashing: string[];
  /** Networks created or removed, units moved onto their app's network. */
  networks: string[];
}

/** Pauses between the reconcile's restarts of one live release: 15 s, 30 s, 1 min ... 10 min. */
export const restartBackoffMs = (attempts: number) => Math.min(10 * 60_000, 15_000 * 2 ** Math.max(0, attempts - 1));

/** Resolves deploys that were running when the previous daemon died. */
export async function recoverDeploys(ctx: Ctx): Promise<Pick<RecoveryReport, 'finished' | 'rolledBack'> & { oneOffs: string[] }> {
  const out = { finished: [] as number[], rolledBack: [] as number[], oneOffs: [] as string[] };
  // Run before this daemon starts any: every one-off container is a release command of a deploy
  // the previous daemon never finished (it runs before the switch, so that deploy is rolled back
  // below), and must not run on, migrating a database for a release that will never serve.
  out.oneOffs = await ctx.runtime.removeOneOffs();
  for (const d of ctx.store.runningDeploys()) {
    const target = d.release_id ? ctx.store.getRelease(d.release_id) : undefined;
    // Died after the runtime switched but before the state said so: the target passed its health
    // check and serves now, so the switch is recorded rather than undone (which would take
    // away the serving container, and the release before may be the one the operator fled).
    const switchedUnrecorded = target && !ctx.store.stepDone(d.id, 'switch') && ctx.store.stepsOf(d.id).some((s) => s.step === 'switch')
      && (await unitOf(ctx, target))?.serving;
    if (target && switchedUnrecorded) {
      commitSwitch(ctx, d.id, target, d.previous_release_id ? ctx.store.getRelease(d.previous_release_id) ?? null : null);
    }
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

/** Whether a unit belongs (pure): the live release's web copies and its workers' copies up to
 *  the formation; a warm release's web copies (up to the same count: a rollback finds them
 *  running), and its workers once stopped (their output is read until it retires) or while they
 *  drain; a web copy `berth scale` took away while it drains. */
export function wantedUnit(u: Unit, r: ReleaseRow | undefined, liveId: number | undefined, formation: Formation, draining: Set<string>): boolean {
  if (!r) return false;
  if (u.process === primaryOf(r)) {
    return (r.id === liveId || r.state === 'warm') && (u.replica <= replicasOf(formation, u.process) || (u.running && draining.has(u.id)));
  }
  if (r.id === liveId) return workersOf(r).includes(u.process) && u.replica <= replicasOf(formation, u.process);
  return r.state === 'warm' && (!u.running || draining.has(u.id));
}

/** Makes one app's containers match its state: the live release serves (with its workers), warm
 *  ones keep their web process, nothing else. */
async function reconcileApp(ctx: Ctx, app: string, units: Unit[], report: RecoveryReport, signal: AbortSignal): Promise<void> {
  const row = ctx.store.getApp(app)!;
  const releases = ctx.store.releasesOf(app);
  const byName = new Map(releases.map((r) => [relName(r), r] as const));
  const live = row.live_release ? ctx.store.getRelease(row.live_release) : undefined;
  const formation = formationOf(ctx, app);
  for (const u of units) {
    if (!wantedUnit(u, byName.get(u.release), live?.id, formation, ctx.draining)) {
      await ctx.runtime.remove(u);
      report.removed.push(u.name);
    }
  }
  if (live && primaryOf(live)) {
    // each copy of the serving process: its restart policy's to bring back, or started again
    // from the image, health-checked, and given its copy's name; the others serve meanwhile
    for (let i = 1; i <= replicasOf(formation, primaryOf(live)!) && !signal.aborted; i++) {
      const copy = i > 1 ? ` copy ${i}` : '';
      let unit: Unit | null | undefined = units.find((u) => u.release === relName(live) && u.process === primaryOf(live) && u.replica === i);
      if (unit?.restarting) {
        report.crashing.push(`${app} ${relName(live)}${copy}`); // its restart policy brings it back: not ours to race
      } else if (!unit || !unit.running || !unit.attached) {
        // gone, stopped, or cut off the network (e.g. the network was removed by hand)
        unit = await restartLive(ctx, live, unit, signal, i);
        if (unit) report.restarted.push(`${app} ${relName(live)}${copy}`);
      }
      if (unit?.running && !unit.serving && !signal.aborted) await ctx.runtime.activate(unit);
    }
    if (!signal.aborted) report.restarted.push(...await restartWorkers(ctx, live, units, formation));
  }
  if (live && siteOf(live) && sitesOf(ctx).current(app) !== relName(live)) {
    // a switch cut short between the release's processes and its site's pointer
    sitesOf(ctx).point(app, relName(live));
    report.restarted.push(`${app} ${relName(live)} static site`);
  }
  for (const r of releases.filter((x) => x.state === 'warm')) {
    const u = units.find((x) => x.release === relName(r) && x.process === primaryOf(r));
    if (primaryOf(r) && (!u || !u.running || !u.attached)) await retireRelease(ctx, r);
  }
}

/** Starts the live release's worker copies that are gone or stopped (not those its restart
 *  policy is bringing back): a worker has no health check to wait for. */
async function restartWorkers(ctx: Ctx, live: ReleaseRow, units: Unit[], formation: Formation): Promise<string[]> {
  const out: string[] = [];
  for (const process of workersOf(live)) {
    for (let i = 1; i <= replicasOf(formation, process); i++) {
      const u = units.find((x) => x.release === relName(live) && x.process === process && x.replica === i);
      // a routed process whose switch a crash cut short: it runs, but its name is not moved yet
      if (u?.running && u.serves && !u.serving) await ctx.runtime.activate(u);
      if (u?.running || u?.restarting) continue;
      if (u) await ctx.runtime.remove(u);
      const [started] = await startWorkers(ctx, live, [{ process, replicas: i }], i);
      await ctx.runtime.activate(started!);
      out.push(`${live.app} ${relName(live)} ${process}${i > 1 ? ` copy ${i}` : ''}`);
    }
  }
  return out;
}

/** Where the reconcile counts a copy's restarts: the app's own entry for the first (berth status shows it). */
export const restartKey = (app: string, replica: number) => (replica > 1 ? `${app} copy ${replica}` : app);

/** Starts the live release again from its image, unless it was restarted lately (backing off
 *  one that keeps going down); null when it waits or was cancelled. */
async function restartLive(ctx: Ctx, r: ReleaseRow, old: Unit | undefined, signal: AbortSignal, replica = 1): Promise<Unit | null> {
  // each copy backs off on its own: one copy that keeps going down never holds back another's restart
  const key = restartKey(r.app, replica);
  const seen = ctx.restarts.get(key);
  const prior = seen?.release === r.id ? seen : { release: r.id, count: 0, nextAt: 0, lastError: null };
  if (Date.now() < prior.nextAt) return null;
  ctx.restarts.set(key, { ...prior, count: prior.count + 1, nextAt: Date.now() + restartBackoffMs(prior.count + 1) });
  if (old) await ctx.runtime.remove(old);
  const unit = await ctx.runtime.start(processSpec(ctx, r, primaryOf(r)!, replica));
  try {
    await waitHealthy(ctx.runtime, unit, { path: r.health_path, port: r.port }, ctx.settings.deploy_timeout_ms, signal,
      'nothing serves it meanwhile; the daemon tries again, with growing pauses');
    return unit;
  } catch (e) {
    ctx.restarts.set(key, { ...ctx.restarts.get(key)!, lastError: asBerthError(e).message });
    await ctx.runtime.remove(unit); // never activated without a passed health check
    if (!signal.aborted) throw e;
    return null;
  }
}

/** True when an app's containers, as last listed, already match its state. */
function looksSettled(ctx: Ctx, app: string, units: Unit[]): boolean {
  const row = ctx.store.getApp(app)!;
  const releases = ctx.store.releasesOf(app);
  const byName = new Map(releases.map((r) => [relName(r), r] as const));
  const formation = formationOf(ctx, app);
  const live = row.live_release ? ctx.store.getRelease(row.live_release)! : null;
  const copies = (r: ReleaseRow) => (primaryOf(r) ? replicasOf(formation, primaryOf(r)!) : 0);
  // a warm release keeps the copies it has (one started before `berth scale` added more has fewer)
  const warmCopies = (r: ReleaseRow) => Math.max(1, units.filter((u) => u.release === relName(r) && u.process === primaryOf(r)
    && u.replica <= copies(r)).length);
  const expected = releases.filter((r) => r.state === 'warm' && r.id !== live?.id).reduce((n, r) => n + warmCopies(r), 0)
    + (live ? copies(live) + workersOf(live).reduce((n, p) => n + replicasOf(formation, p), 0) : 0);
  const isPrimary = (u: Unit) => u.process === primaryOf(byName.get(u.release) ?? { processes: '{}' });
  const running = units.filter((u) => (u.running && !ctx.draining.has(u.id)) || isPrimary(u));
  return running.length === expected && units.every((u) => wantedUnit(u, byName.get(u.release), live?.id, formation, ctx.draining))
    && running.every((u) => u.running && u.attached && (!u.serves || u.release !== (live && relName(live)) || u.serving));
}

/** One pass over every app not being operated on right now, then the proxy. A cheap listing
 *  finds the apps that look off; each is then repaired as maintenance from a fresh listing, so
 *  an operation that finished meanwhile is never undone from stale data. */
export async function reconcile(ctx: Ctx): Promise<RecoveryReport> {
  const report: RecoveryReport = { finished: [], rolledBack: [], restarted: [], removed: [], routes: [], crashing: [], networks: [] };
  const units = await ctx.runtime.list();
  const apps = new Set(ctx.store.listApps().map((a) => a.name));
  for (const u of units.filter((x) => !apps.has(x.app))) {
    await ctx.runtime.remove(u);
    report.removed.push(u.name);
  }
  // each app on its own network; a platform from before per-app networks moves here, live
  const isolated = await ctx.runtime.isolate(ctx.store.listApps().map((a) => appNetworkFor(ctx, a.name)));
  report.networks = [...isolated.created.map((a) => `created the network of ${a}`), ...isolated.removed.map((a) => `removed the network of ${a}`)];
  for (const app of isolated.stranded) report.networks.push(...await moveOntoOwnNetwork(ctx, app));
  for (const app of apps) {
    if (looksSettled(ctx, app, units.filter((u) => u.app === app))) {
      const live = ctx.store.getApp(app)!.live_release;
      // it stayed up: forget its restarts (every copy's)
      for (const [k, v] of ctx.restarts) if ((k === app || k.startsWith(`${app} copy `)) && v.release === live) ctx.restarts.delete(k);
      continue;
    }
    await ctx.locks.whileFree(app, 'the daemon repairing its containers', async (signal) => reconcileApp(ctx, app, await ctx.runtime.list(app), report, signal))
      .catch((e: unknown) => ctx.log.error({ app, err: asBerthError(e).message }, 'reconcile failed for app'));
  }
  report.routes = await ctx.proxy.sync();
  if (report.removed.length || report.restarted.length || report.routes.length || report.networks.length) ctx.log.info(report, 'reconciled');
  if (report.crashing.length) ctx.log.warn({ crashing: report.crashing }, 'live releases that keep exiting (their restart policy brings them back)');
  return report;
}

/** An app still served from the platform network moves onto its own the zero-downtime way: a
 *  new release of the same image and config, started there. A busy app is tried at the next pass. */
async function moveOntoOwnNetwork(ctx: Ctx, app: string): Promise<string[]> {
  try {
    const r = await deploy(ctx, { app, kind: 'config', actor: 'berth', note: 'moved onto its own network' }, () => undefined);
    return [`moved ${app} onto its own network (${r.release} serves from there)`];
  } catch (e) {
    ctx.log.warn({ app, err: asBerthError(e).message }, 'moving the app onto its own network failed; tried again at the next reconcile');
    return [];
  }
}

/** Stops warm releases whose window has passed. The lock is held only to take the release
 *  out of the warm set; stopping (with its drain timeout) happens outside it, so a deploy
 *  right after never waits for an old release to exit. */
export async function retireExpired(ctx: Ctx): Promise<void> {
  for (const r of ctx.store.warmReleasesDue(new Date().toISOString())) {
    const units = await ctx.locks.whileFree(r.app, 'the daemon retiring a warm release', async () => {
      const fresh = ctx.store.getRelease(r.id);
      if (fresh?.state !== 'warm') return null;
      ctx.store.setReleaseState(r.id, 'stopped');
      return unitsOf(ctx, r);
    }).catch((e: unknown) => { ctx.log.error({ app: r.app, err: asBerthError(e).message }, 'retiring a warm release failed'); return null; });
    if (units?.length) {
      await removeUnits(ctx, r, units).catch((e) => ctx.log.error({ app: r.app, err: asBerthError(e).message }, 'stopping a retired release failed'));
    }
  }
}

