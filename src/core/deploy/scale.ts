// `berth scale APP worker=3 web=3`: how many copies of each process run, changed on the live
// release without a deploy. New copies must stay up as a deploy's workers must; copies taken away get
// their grace period to finish the job in hand. The formation outlives releases: the next
// deploy and a rollback run the same counts.
//
// The serving process (web): a new copy is started, passes its health check and takes its copy's
// name (`...-web_3`) before the proxy's route lists that name; a copy taken away leaves the route
// first, then drains (SIGTERM, the drain timeout) and goes. So no request is sent to a copy that
// is not ready or no longer there; the route change itself is one config load (caddy/targets.ts
// says what that costs).
import { asBerthError, BerthError } from '../../lib/errors.js';
import * as v from '../../lib/validate.js';
import type { Unit } from '../../runtime/types.js';
import type { ReleaseRow } from '../../state/store.js';
import type { Ctx } from '../context.js';
import { routeFor } from '../apps/routes.js';
import { confirmWorkers, drainWorkers, formationOf, processSpec, relName, startWorkers, unitsOf } from './execute.js';
import { meanwhile, waitHealthy } from './health.js';
import { checkScale, describeProcesses, type Formation, primaryOf, replicasOf } from './processes.js';

const SCALE_LOCK_ID = -3; // an operation without a deploy row

export interface ScaleResult { app: string; release: string; processes: string; started: string[]; stopping: string[] }

export async function scale(ctx: Ctx, req: { app: string; processes: Formation; actor: string; lockTimeoutMs?: number }): Promise<ScaleResult> {
  const app = v.appName(req.app);
  if (!ctx.store.getApp(app)) throw new BerthError('not_found', `app ${app} not found`, 'list apps with: berth apps list');
  const liveOf = () => { const id = ctx.store.getApp(app)!.live_release; return id ? ctx.store.getRelease(id)! : null; };
  checkScale(liveOf(), app, req.processes); // a clear error before waiting for the lock
  const { controller } = await ctx.locks.acquire(app, { deployId: SCALE_LOCK_ID, what: 'a scale change', actor: req.actor }, req.lockTimeoutMs ?? 5000);
  try {
    const live = liveOf()!;
    checkScale(live, app, req.processes);
    const before = formationOf(ctx, app);
    const after = { ...before, ...req.processes };
    const serving = primaryOf(live);
    const units = (await unitsOf(ctx, live)).filter((u) => u.process !== serving);
    const started: string[] = [];
    const stopping: string[] = [];
    const web = serving && serving in req.processes && replicasOf(after, serving) !== replicasOf(before, serving)
      ? await scaleServing(ctx, live, serving, replicasOf(before, serving), replicasOf(after, serving), controller.signal) : null;
    for (const process of Object.keys(req.processes).filter((p) => p !== serving)) {
      const want = replicasOf(after, process);
      const have = units.filter((u) => u.process === process && u.running).map((u) => u.replica);
      const extra = units.filter((u) => u.process === process && u.replica > want && u.running);
      const missing = Array.from({ length: want }, (_, i) => i + 1).filter((i) => !have.includes(i));
      for (const i of missing) {
        const [u] = await startWorkers(ctx, live, [{ process, replicas: i }], i);
        await confirmWorkers(ctx, live, [u!], Date.now(), ctx.settings.worker_up_ms, controller.signal)
          .catch(async (e) => { await ctx.runtime.remove(u!); throw e; });
        started.push(u!.name);
      }
      drainWorkers(ctx, live, extra);
      stopping.push(...extra.map((u) => u.name));
    }
    ctx.store.setFormation(app, after);
    if (web) {
      started.push(...web.started.map((u) => u.name));
      stopping.push(...web.extra.map((u) => u.name));
      // the route lists the copies now running (added ones serve from here on, taken ones no longer get requests) ...
      await ctx.proxy.ensureRoute(routeFor(ctx, app));
      // ... and a lookup that began under the config before is done within one refresh
      await new Promise((r) => setTimeout(r, ctx.settings.upstream_refresh_ms + 15));
      drainCopies(ctx, web.extra);
    }
    ctx.store.audit({ actor: req.actor, action: 'scale', app, result: 'succeeded', detail: { from: before, to: after, release: relName(live) } });
    return { app, release: relName(live), processes: describeProcesses(live, after), started, stopping };
  } finally {
    ctx.locks.release(app, SCALE_LOCK_ID);
  }
}

/** Brings the serving process's copies from `from` to `to`: new copies started, health-checked
 *  and given their names (all of them, or none: one that fails takes the others started here
 *  with it); copies past `to` are returned, for the caller to drain once the route leaves them. */
async function scaleServing(ctx: Ctx, live: ReleaseRow, process: string, from: number, to: number, signal: AbortSignal)
  : Promise<{ started: Unit[]; extra: Unit[] }> {
  const units = (await unitsOf(ctx, live)).filter((u) => u.process === process);
  const extra = units.filter((u) => u.replica > to && u.running && !ctx.draining.has(u.id));
  const started: Unit[] = [];
  try {
    for (let i = from + 1; i <= to; i++) {
      // a copy of this number still draining from a scale-down holds the name: it has been out of
      // the route since, so it goes now
      for (const old of units.filter((u) => u.replica === i)) await ctx.runtime.remove(old);
      const u = await ctx.runtime.start(processSpec(ctx, live, process, i));
      started.push(u);
      const e = { path: live.health_path, port: live.port };
      await waitHealthy(ctx.runtime, u, e, ctx.settings.deploy_timeout_ms, signal, meanwhile(relName(live)));
      await ctx.runtime.activate(u); // its copy's name: the route does not list it yet
    }
  } catch (e) {
    for (const u of started) await ctx.runtime.remove(u);
    throw e;
  }
  return { started, extra };
}

/** Copies out of the route finish their requests (the drain timeout) and go, in the background. */
export function drainCopies(ctx: Ctx, units: Unit[]): void {
  for (const u of units) {
    ctx.draining.add(u.id);
    ctx.runtime.stop(u, ctx.settings.drain_timeout_ms)
      .then(() => ctx.runtime.remove(u))
      .catch((e: unknown) => ctx.log.error({ app: u.app, unit: u.name, err: asBerthError(e).message }, 'stopping a web copy failed'))
      .finally(() => ctx.draining.delete(u.id));
  }
}
