// The deploy executor: takes a plan and runs it step by step, journaling each step in the
// state so that a crash can be finished or rolled back (see recover.ts). Until the switch,
// every failure leaves the live release serving as it was (a route changed for a new port is
// put back); after it, the new release serves.
import { BerthError, asBerthError } from '../../lib/errors.js';
import { parseImageRef } from '../../lib/image-ref.js';
import type { ProcessSpec, RegistryAuth, Unit } from '../../runtime/types.js';
import type { DeployKind, ReleaseRow } from '../../state/store.js';
import { type Ctx, pauseIfHooked } from '../context.js';
import { routeFor, routeForRelease } from '../apps/routes.js';
import { appNetworkFor } from '../shared-services/services.js';
import { StaticSites } from '../static-sites/index.js';
import { siteOf, specOf } from './release-spec.js';
import { logExcerpt } from '../../lib/log-excerpt.js';
import { meanwhile, waitHealthy } from './health.js';
import { describeStep, planDeploy, releaseNamer, type Step } from './plan.js';
import { commandOf, entryOf, graceOf, limitsOf, primaryOf, processTable, replicasOf, servingProcess, workersOf } from './processes.js';

export { limitsOf, processesOf, servingProcess } from './processes.js';

export type DeployEvent =
  | { type: 'plan'; deploy: number; release: string; steps: string[] }
  | { type: 'step'; step: Step['kind'] | 'build'; state: 'started' | 'done'; detail?: string; ms?: number }
  | { type: 'progress'; line: string };

export type Emit = (e: DeployEvent) => void;

export interface DeployResult {
  deploy: number; app: string; kind: DeployKind; release: string; previous: string | null;
  state: 'succeeded' | 'planned'; ms: number; steps?: string[]; warnings: string[];
}

export const relName = (r: Pick<ReleaseRow, 'seq'>) => `v${r.seq}`;

/** How the runtime should run a copy of a release's process: its pinned image id once known,
 *  its env from berth.yml under the app's config and services' wiring (those win). */
export function processSpec(ctx: Ctx, r: ReleaseRow, process = servingProcess(r), replica = 1): ProcessSpec {
  const e = entryOf(r, process);
  const cmd = commandOf(r, process);
  const env = { ...(e.env ? ctx.cipher.decryptJSON<Record<string, string>>(e.env) : {}), ...ctx.cipher.decryptJSON<Record<string, string>>(r.env) };
  return {
    app: r.app, release: relName(r), process, image: e.image ?? r.image_id ?? r.image, ...(cmd ? { cmd } : {}), replica,
    env, port: e.port ?? r.port, limits: limitsOf(r, process), ...(e.entrypoint ? { entrypoint: e.entrypoint } : {}),
    ...(e.volumes?.length ? { volumes: e.volumes } : {}), serves: process === primaryOf(r) || !!e.routed,
    services: appNetworkFor(ctx, r.app).services,
  };
}

export const unitOf = async (ctx: Ctx, r: ReleaseRow) => (primaryOf(r) ? ctx.runtime.inspect(r.app, primaryOf(r)!, relName(r)) : null);

/** Every unit of a release: its web process and each copy of the others. */
export const unitsOf = async (ctx: Ctx, r: ReleaseRow): Promise<Unit[]> => (await ctx.runtime.list(r.app)).filter((u) => u.release === relName(r));

function authFor(ctx: Ctx, ref: string): RegistryAuth | undefined {
  const registry = parseImageRef(ref)?.registry;
  const enc = registry ? ctx.store.registryAuth(registry) : undefined;
  return enc ? ctx.cipher.decryptJSON<RegistryAuth>(enc) : undefined;
}

export interface Execution {
  deployId: number; kind: DeployKind; target: ReleaseRow; live: ReleaseRow | null; targetRunning: boolean;
  timeoutMs: number; releaseTimeoutMs: number; releaseCommand?: string[]; signal: AbortSignal; emit: Emit;
  /** The process whose image and env the release command runs with (default: the serving one). */
  releaseProcess?: string;
}

export async function execute(ctx: Ctx, x: Execution): Promise<DeployResult> {
  const started = Date.now();
  const { deployId, kind, target, live } = x;
  const app = target.app;
  const formation = formationOf(ctx, app);
  const input = {
    kind, target, live, releases: ctx.store.releasesOf(app), targetRunning: x.targetRunning, releaseCommand: x.releaseCommand,
    deployTimeoutMs: x.timeoutMs, refreshMs: ctx.settings.upstream_refresh_ms, keepReleases: ctx.settings.keep_releases,
    workers: workersOf(target).map((process) => ({ process, replicas: replicasOf(formation, process) })),
    liveHasWorkers: !!live && workersOf(live).length > 0, workerUpMs: ctx.settings.worker_up_ms, primary: !!primaryOf(target),
    routeChange: live && routingDiffers(ctx, live, target) ? 'the release routes requests differently' : undefined,
    copies: primaryOf(target) ? replicasOf(formation, primaryOf(target)!) : 1,
    siteRoot: siteOf(target)?.root,
  };
  const steps = planDeploy(input);
  const name = releaseNamer(input);
  x.emit({ type: 'plan', deploy: deployId, release: relName(target), steps: steps.map((s) => describeStep(s, name)) });
  ctx.log.info({ app, deploy: deployId, kind, release: relName(target), steps: steps.map((s) => s.kind) }, 'deploy started');
  const run: RunState = { unit: x.targetRunning ? await unitOf(ctx, target) : null, copies: [], workers: [], workersAt: 0 };
  let switched = false;
  const warnings: string[] = [];
  try {
    for (const step of steps) {
      if (!switched && x.signal.aborted) throw new BerthError('aborted', `deploy #${deployId} aborted before ${step.kind}`);
      await pauseIfHooked(ctx, step.kind);
      const t0 = Date.now();
      ctx.store.journal(deployId, step.kind, 'started');
      x.emit({ type: 'step', step: step.kind, state: 'started', detail: describeStep(step, name) });
      try {
        const detail = await runStep(ctx, step, x, run);
        if (step.kind === 'switch') switched = true;
        if (step.kind !== 'switch') ctx.store.journal(deployId, step.kind, 'done', detail);
        x.emit({ type: 'step', step: step.kind, state: 'done', ms: Date.now() - t0, detail });
      } catch (e) {
        if (!switched) throw e;
        // After the switch the new release serves: clean-up trouble is a warning, not a failure.
        warnings.push(`${step.kind}: ${asBerthError(e).message}`);
        ctx.store.journal(deployId, step.kind, 'failed', asBerthError(e).message);
      }
    }
    ctx.store.finishDeploy(deployId, 'succeeded');
    ctx.store.audit({
      actor: target.actor, action: kind, app, result: 'succeeded',
      detail: { deploy: deployId, release: relName(target), image: target.image, warnings },
    });
    ctx.log.info({ app, deploy: deployId, release: relName(target), ms: Date.now() - started }, 'deploy succeeded');
    return {
      deploy: deployId, app, kind, release: relName(target), previous: live ? relName(live) : null,
      state: 'succeeded', ms: Date.now() - started, warnings,
    };
  } catch (e) {
    const err = asBerthError(e);
    // The state says the new release is live: nothing is undone (what failed is the record of
    // the deploy's end, after the switch).
    if (run.committed) {
      ctx.log.error({ app, deploy: deployId, err: err.message }, 'recording the end of a deploy failed; its release is live');
      try {
        ctx.store.finishDeploy(deployId, 'succeeded'); // once more: the store may answer now (else the next start's recovery finishes it)
      } catch (fe) {
        ctx.log.error({ app, deploy: deployId, err: asBerthError(fe).message }, 'the deploy stays recorded as running');
      }
      throw new BerthError(err.code, `deploy #${deployId} of ${app}: ${relName(target)} is live, but recording the deploy's end failed: ${err.message}`,
        err.hint, { ...err.details, deploy: deployId, live: relName(target) });
    }
    // The runtime switched but the state never said so: the release before takes its name back
    // first, or removing the new one would leave the app with nothing serving. If it cannot, the
    // new one keeps serving (and the name) until the reconcile puts the live release back.
    const nameBack = !run.activated || !live || await giveNameBack(ctx, live).then(() => true, (be: unknown) => {
      warnings.push(`giving ${relName(live)} its name back: ${asBerthError(be).message} (the reconcile does)`);
      return false;
    });
    await undoBeforeSwitch(ctx, target, x.targetRunning || !nameBack, run.unit, [...run.copies,
      ...run.workers]).catch((ce) => warnings.push(`clean-up: ${asBerthError(ce).message}`));
    // a route already changed for the new release (its port) goes back to what the state says
    if (ctx.store.stepDone(deployId, 'route')) {
      await ctx.proxy.ensureRoute(routeFor(ctx, app))
        .catch((re) => warnings.push(`putting the route back: ${asBerthError(re).message} (the next reconcile does)`));
    }
    const result = err.code === 'aborted' ? 'aborted' : 'failed';
    ctx.store.finishDeploy(deployId, result, err.message);
    ctx.store.audit({ actor: target.actor, action: kind, app, result, detail: { deploy: deployId, release: relName(target), error: err.message } });
    ctx.log.warn({ app, deploy: deployId, err: err.message }, 'deploy failed; the live release keeps serving');
    throw new BerthError(err.code, `deploy #${deployId} of ${app} failed: ${err.message}`, err.hint ?? (live ? `${relName(live)} keeps serving` : undefined),
      { ...err.details, deploy: deployId, live: live ? relName(live) : null, ...(warnings.length ? { warnings } : {}) });
  }
}

/** Records the switch in the state: the target is live, the release it replaced stays warm.
 *  Returns when the warm window ends. */
export function commitSwitch(ctx: Ctx, deployId: number, target: ReleaseRow, live: ReleaseRow | null): string {
  const warmUntil = new Date(Date.now() + ctx.settings.warm_ms).toISOString();
  ctx.store.tx(() => {
    ctx.store.setLive(target.app, target.id);
    ctx.store.setReleaseState(target.id, 'live');
    if (live && live.id !== target.id) ctx.store.setReleaseState(live.id, 'warm', warmUntil);
    ctx.store.journal(deployId, 'switch', 'done', { from: live?.id ?? null, to: target.id });
  });
  // a new live release: the reconcile's counts start again (every copy's)
  for (const k of ctx.restarts.keys()) if (k === target.app || k.startsWith(`${target.app} copy `)) ctx.restarts.delete(k);
  return warmUntil;
}

/** The live release's serving process takes its name back (parking whoever holds it); a live
 *  release without one (a static site) has no name to take. */
async function giveNameBack(ctx: Ctx, live: ReleaseRow): Promise<void> {
  if (!primaryOf(live)) return;
  const u = await unitOf(ctx, live);
  if (!u) throw new BerthError('not_found', `${relName(live)} has no container left`);
  await ctx.runtime.activate(u);
}

/** A failed or aborted deploy leaves no trace of the new release running. A warm release that
 *  was only health-checked (a rollback) keeps its web process, as it was; the workers started
 *  for it go. `known` saves a listing when the deploy knows what it started. */
export async function undoBeforeSwitch(ctx: Ctx, target: ReleaseRow, targetWasRunning: boolean, unit: Unit | null, known: Unit[] = []): Promise<void> {
  const units = unit && !known.length ? [unit] : await unitsOf(ctx, target);
  for (const u of units) if (!(targetWasRunning && u.process === primaryOf(target))) await ctx.runtime.remove(u);
  if (target.state === 'pending') ctx.store.setReleaseState(target.id, 'failed');
}

export const formationOf = (ctx: Ctx, app: string): Record<string, number> => JSON.parse(ctx.store.getApp(app)?.formation ?? '{}') as Record<string, number>;

/** Starts the copies of a release's processes besides web. */
export async function startWorkers(ctx: Ctx, r: ReleaseRow, workers: { process: string; replicas: number }[], from = 1): Promise<Unit[]> {
  const started: Unit[] = [];
  for (const w of workers) for (let i = from; i <= w.replicas; i++) started.push(await ctx.runtime.start(processSpec(ctx, r, w.process, i)));
  return started;
}

/** Waits until started workers have been up `upMs` (those a route goes to: until they pass their
 *  health check), fails naming one that exited (with its output), then makes the others run for
 *  good (restarted when they fail); the routed ones switch with the release. */
export async function confirmWorkers(ctx: Ctx, r: ReleaseRow, started: Unit[], since: number, upMs: number, signal: AbortSignal,
  timeoutMs = ctx.settings.deploy_timeout_ms, live: string | null = null): Promise<void> {
  for (const u of started.filter((x) => x.serves)) {
    const e = entryOf(r, u.process);
    await waitHealthy(ctx.runtime, u, { path: e.health?.path ?? r.health_path, port: e.port ?? r.port, timeoutMs: e.health?.timeout_ms },
      timeoutMs, signal, meanwhile(live));
  }
  const wait = since + upMs - Date.now();
  if (wait > 0) await abortableSleep(wait, signal);
  const now = new Map((await unitsOf(ctx, r)).map((u) => [u.id, u] as const));
  for (const u of started) {
    const n = now.get(u.id);
    if (n?.running) continue;
    const why = !n ? 'is gone' : n.oomKilled ? `was killed for passing its memory limit (${limitsOf(r, u.process).memory_mb} MB)` : `exited with ${n.exitCode}`;
    throw new BerthError('unhealthy', `${u.process} (copy ${u.replica}) of ${relName(r)} ${why} within ${upMs} ms of its start`,
      `see its output below; run it by hand with: berth run ${r.app} -- ${(commandOf(r, u.process) ?? []).join(' ')}`,
      n ? { logs: logExcerpt(await ctx.runtime.logs(n, 40), 20) } : {});
  }
  for (const u of started.filter((x) => !x.serves)) await ctx.runtime.activate(u);
}

/** Stops copies that no longer should run, each with its grace period to finish the job in
 *  hand, in the background: nothing waits on a worker's drain. Stopped, they stay until their
 *  release is retired, so their output can be read. */
export function drainWorkers(ctx: Ctx, r: ReleaseRow, units: Unit[]): void {
  for (const u of units) {
    ctx.draining.add(u.id);
    ctx.runtime.stop(u, graceOf(r, u.process, ctx.settings.drain_timeout_ms))
      .catch((e: unknown) => ctx.log.error({ app: r.app, unit: u.name, err: asBerthError(e).message }, 'stopping a worker failed'))
      .finally(() => ctx.draining.delete(u.id));
  }
}

const abortableSleep = (ms: number, signal: AbortSignal) => new Promise<void>((res, rej) => {
  const t = setTimeout(res, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); rej(new BerthError('aborted', 'cancelled')); }, { once: true });
});

/** unit: the serving process's first copy (the target's, started or warm); copies: its others. */
interface RunState {
  unit: Unit | null; copies: Unit[]; workers: Unit[]; workersAt: number;
  /** When the switch last took a serving name from the release before (the mid-switch call). */
  namedAwayAt?: number;
  /** The runtime switched the serving process (the target holds its name) ... */
  activated?: boolean;
  /** ... and the state says so: from here on, a failure is a warning. */
  committed?: boolean;
}

/** The serving process's copies 2..N of a release, started where missing (a deploy starts them
 *  all; a warm release being rolled back to may lack those added by `berth scale` since). */
async function startCopies(ctx: Ctx, r: ReleaseRow, copies: number): Promise<Unit[]> {
  const process = servingProcess(r);
  const have = (await unitsOf(ctx, r)).filter((u) => u.process === process && u.running);
  const out: Unit[] = [];
  for (let i = 2; i <= copies; i++) out.push(have.find((u) => u.replica === i) ?? await ctx.runtime.start(processSpec(ctx, r, process, i)));
  return out;
}

async function runStep(ctx: Ctx, step: Step, x: Execution, run: RunState): Promise<string | undefined> {
  const rt = ctx.runtime;
  const { target } = x;
  switch (step.kind) {
    case 'pull': {
      // a release that knows its image id runs exactly that image (a config change, a cold
      // rollback), whatever its tag names now: it must be here, not pulled again by tag
      const info = target.image_id ? await rt.imageInfo(target.image_id) : await rt.ensureImage(target.image, authFor(ctx, target.image),
        (line) => x.emit({ type: 'progress', line }), x.signal);
      if (!info) {
        throw new BerthError('not_found', `the image ${relName(target)} ran (${target.image_id!.slice(0, 19)}, from ${target.image}) is no longer on this host`,
          `deploy it again by name: berth deploy ${target.app} --image ${target.image}`);
      }
      ctx.store.setReleaseImage(target.id, info.id, info.digest);
      target.image_id = info.id;
      target.digest = info.digest;
      await pullProcessImages(ctx, target, x);
      return info.id.slice(0, 19);
    }
    case 'release_command': {
      const r = await rt.runOnce(processSpec(ctx, target, x.releaseProcess ?? servingProcess(target)), step.cmd,
        { timeoutMs: x.releaseTimeoutMs, signal: x.signal });
      if (r.exitCode !== 0) {
        throw new BerthError('command_failed', `release command exited with ${r.exitCode}`,
          x.live ? `the live release ${relName(x.live)} was not touched` : 'no release of the app was started', { logs: logExcerpt(r.output, 20) });
      }
      return `exit 0`;
    }
    case 'static': {
      const site = siteOf(target)!;
      const pinned = site.image.startsWith('sha256:');
      if (pinned && !(await rt.imageInfo(site.image))) {
        throw new BerthError('not_found', `the image ${relName(target)}'s static files came from (${site.image.slice(0, 19)}) is no longer on this host`,
          `deploy the app again from its description: berth deploy ${target.app} --file berth.yml`);
      }
      const image = pinned ? site.image
        : (await rt.ensureImage(site.image, authFor(ctx, site.image), (line) => x.emit({ type: 'progress', line }), x.signal)).id;
      if (image !== site.image) {
        // pinned, as the release's own image is: a config change or rollback copies these files, whatever the tag names later
        target.spec = JSON.stringify({ ...specOf(target), site: { ...site, image } });
        ctx.store.setReleaseSpec(target.id, target.spec);
      }
      const r = await sitesOf(ctx).prepare(target.app, relName(target), image, site.root);
      return `${r.files} files, ${r.bytes} bytes${r.reused ? ' (already there)' : ''}`;
    }
    case 'start': {
      run.unit = await rt.start(processSpec(ctx, target));
      run.copies = await startCopies(ctx, target, step.copies ?? 1);
      return [run.unit, ...run.copies].map((u) => u.name).join(', ');
    }
    case 'start_workers': {
      run.workers = await startWorkers(ctx, target, step.workers);
      // counted from when the last one started: a start slowed down by a busy engine (seconds,
      // measured under load) must not eat the time a crashing worker has to show it
      run.workersAt = Date.now();
      return run.workers.map((u) => u.name).join(', ');
    }
    case 'check_workers': {
      await confirmWorkers(ctx, target, run.workers, run.workersAt, step.upMs, x.signal, x.timeoutMs, x.live && relName(x.live));
      return `${run.workers.length} up`;
    }
    case 'stop_workers': {
      const r = ctx.store.getRelease(step.release)!;
      const units = (await unitsOf(ctx, r)).filter((u) => u.process !== primaryOf(r) && u.running);
      drainWorkers(ctx, r, units);
      return units.length ? `${units.map((u) => u.name).join(', ')} stopping` : 'none running';
    }
    case 'health': {
      if (!run.unit) throw new BerthError('internal', `release ${relName(target)} has no container`);
      if (x.targetRunning) run.copies = await startCopies(ctx, target, step.copies ?? 1);
      const checks = [run.unit, ...run.copies].map((u) =>
        waitHealthy(rt, u, { path: step.path, port: step.port }, step.timeoutMs, x.signal, meanwhile(x.live ? relName(x.live) : null)));
      const ms = Math.max(...(await Promise.all(checks)).map((r) => r.ms));
      return `healthy after ${ms} ms${run.copies.length ? ` (${run.copies.length + 1} copies)` : ''}`;
    }
    case 'route':
      return ctx.proxy.ensureRoute(routeForRelease(ctx, target));
    case 'switch': {
      // Each activation marks when the release before lost the name: the settle counts from there.
      const namedAway = async () => { run.namedAwayAt = Date.now(); };
      if (run.unit) await rt.activate(run.unit, async () => { await namedAway(); await pauseIfHooked(ctx, 'switch.mid'); });
      run.activated = !!run.unit;
      await pauseIfHooked(ctx, 'switch.renamed'); // crash tests: switched in the runtime, not yet in the state
      const warmUntil = commitSwitch(ctx, x.deployId, target, x.live);
      run.committed = true;
      // the processes routes go to, each by its own name, and the serving process's other copies,
      // each by its copy's name (until each renames, the old copy of that number serves: a mix of
      // both releases, as in any rolling switch): a failure here is the reconcile's to finish (it
      // moves a running copy's name), the release serves already
      const late: string[] = [];
      const activateLate = (u: Unit) => rt.activate(u, namedAway).catch((e: unknown) =>
        late.push(`${u.process}${u.replica > 1 ? ` copy ${u.replica}` : ''}: ${asBerthError(e).message} (the reconcile switches it)`));
      for (const u of run.copies) await activateLate(u);
      // the site's files with the release: one flip of its pointer (the proxy reads it per request)
      if (siteOf(target)) {
        try {
          sitesOf(ctx).point(target.app, relName(target));
        } catch (e) {
          late.push(`static site: ${asBerthError(e).message} (the reconcile points it)`);
        }
      }
      for (const u of run.workers.filter((w) => w.serves)) await activateLate(u);
      if (late.length) ctx.log.warn({ app: target.app, late }, 'a routed process did not switch with the release');
      return [x.live ? `${relName(x.live)} stays warm until ${warmUntil}` : '', ...late].filter(Boolean).join('; ') || undefined;
    }
    case 'settle': {
      // A lookup answered before the name moved is cached for one refresh from then, not from
      // the end of the switch: the switch's second half (the new release's rename) counts too.
      const wait = Math.max(0, (run.namedAwayAt ?? Date.now()) + step.ms - Date.now());
      await new Promise((r) => setTimeout(r, wait));
      return `${wait} ms after the switch`;
    }
    case 'retire':
      // End their warm window now; the janitor stops them right after this deploy lets go of
      // the lock, so stopping old containers is not on the deploy's path.
      for (const id of step.releases) ctx.store.setReleaseState(id, 'warm', new Date().toISOString());
      return step.releases.map((id) => relName(ctx.store.getRelease(id)!)).join(', ');
    case 'prune': {
      for (const id of step.releases) await pruneRelease(ctx, ctx.store.getRelease(id)!);
      const kept = ctx.store.releasesOf(target.app).filter((r) => r.state !== 'pruned' && r.state !== 'failed').map(relName);
      sitesOf(ctx).prune(target.app, kept);
      return undefined;
    }
  }
}

/** The apps' static sites on this host's disk. */
export const sitesOf = (ctx: Ctx) => new StaticSites(ctx.paths.staticDir, ctx.runtime);

/** Whether two releases of an app need different proxy routes (paths, redirects, headers, ports). */
function routingDiffers(ctx: Ctx, a: ReleaseRow, b: ReleaseRow): boolean {
  return JSON.stringify(routeForRelease(ctx, a)) !== JSON.stringify(routeForRelease(ctx, b));
}

/** Processes with an image of their own (berth.yml) get it present and pinned to its id, as the release's is. */
async function pullProcessImages(ctx: Ctx, target: ReleaseRow, x: Execution): Promise<void> {
  const table = processTable(target);
  let changed = false;
  for (const e of Object.values(table)) {
    if (!e.image || e.image.startsWith('sha256:')) continue;
    const info = await ctx.runtime.ensureImage(e.image, authFor(ctx, e.image), (line) => x.emit({ type: 'progress', line }), x.signal);
    e.image = info.id;
    changed = true;
  }
  if (!changed) return;
  target.processes = JSON.stringify(table);
  ctx.store.setReleaseProcesses(target.id, target.processes);
}

/** Stops a release that no longer serves (its in-flight requests get the drain timeout). */
export async function retireRelease(ctx: Ctx, r: ReleaseRow): Promise<void> {
  await removeUnits(ctx, r, await unitsOf(ctx, r));
  ctx.store.setReleaseState(r.id, 'stopped');
}

/** Stops (its drain timeout for web, each worker's grace) and removes a release's units; never
 *  the one serving. */
export async function removeUnits(ctx: Ctx, r: ReleaseRow, units: Unit[]): Promise<void> {
  for (const u of units.filter((x) => !x.serving)) {
    if (u.running) await ctx.runtime.stop(u, u.serves ? ctx.settings.drain_timeout_ms : graceOf(r, u.process, ctx.settings.drain_timeout_ms));
    await ctx.runtime.remove(u);
  }
}

async function pruneRelease(ctx: Ctx, r: ReleaseRow): Promise<void> {
  for (const u of await unitsOf(ctx, r)) if (!u.serving) await ctx.runtime.remove(u);
  const stillUsed = ctx.store.releasesOf(r.app).some((o) => o.id !== r.id && o.image_id === r.image_id && o.state !== 'pruned' && o.state !== 'failed');
  if (r.image_id && !stillUsed) await ctx.runtime.removeImage(r.image_id);
  ctx.store.setReleaseState(r.id, 'pruned');
}
