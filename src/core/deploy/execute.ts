// The deploy executor: takes a plan and runs it step by step, journaling each step in the
// state so that a crash can be finished or rolled back (see recover.ts). Until the switch,
// every failure leaves the live release serving as it was (a route changed for a new port is
// put back); after it, the new release serves.
import { BerthError, asBerthError } from '../../lib/errors.js';
import { parseImageRef } from '../../lib/image-ref.js';
import { effectiveLimits, type Limits } from '../../lib/limits.js';
import type { ProcessSpec, ProcessType, RegistryAuth, Unit } from '../../runtime/types.js';
import { WEB } from '../../runtime/types.js';
import type { DeployKind, ReleaseRow } from '../../state/store.js';
import { type Ctx, pauseIfHooked } from '../context.js';
import { routeFor } from '../apps/routes.js';
import { logExcerpt } from '../../lib/log-excerpt.js';
import { meanwhile, waitHealthy } from './health.js';
import { describeStep, planDeploy, releaseNamer, type Step } from './plan.js';

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

/** The process types a release runs, from its data. */
export const processesOf = (r: Pick<ReleaseRow, 'processes'>): ProcessType[] => Object.keys(JSON.parse(r.processes) as Record<string, unknown>);

/** The process of a release that the proxy routes to and the switch moves: `web`. The others
 *  (workers) have no serving name; running them is the next step of the process model. */
export function servingProcess(r: Pick<ReleaseRow, 'processes'>): ProcessType {
  const ps = processesOf(r);
  if (!ps.includes(WEB)) throw new BerthError('internal', `release has no ${WEB} process (${ps.join(', ')})`);
  return WEB;
}

/** How the runtime should run a release's process: its pinned image id once known. */
/** The limits a release's process runs with (set when the release was made; pure). */
export const limitsOf = (r: Pick<ReleaseRow, 'processes'>, process: ProcessType): Limits =>
  effectiveLimits((JSON.parse(r.processes) as Record<string, { limits?: Partial<Limits> }>)[process]?.limits ?? {});

export function processSpec(ctx: Ctx, r: ReleaseRow, process = servingProcess(r)): ProcessSpec {
  return {
    app: r.app, release: relName(r), process, image: r.image_id ?? r.image,
    env: ctx.cipher.decryptJSON<Record<string, string>>(r.env), port: r.port, limits: limitsOf(r, process),
  };
}

/** The processes of a new release: those of the release before (or web alone), each with the
 *  app's limits as they are now. A release keeps its limits: a rollback brings its own back. */
export function releaseProcesses(live: Pick<ReleaseRow, 'processes'> | null, appLimits: string): string {
  const ps = JSON.parse(live?.processes ?? '{"web":{}}') as Record<string, Record<string, unknown>>;
  const limits = effectiveLimits(JSON.parse(appLimits) as Partial<Limits>);
  return JSON.stringify(Object.fromEntries(Object.entries(ps).map(([name, p]) => [name, { ...p, limits }])));
}

export const unitOf = (ctx: Ctx, r: ReleaseRow) => ctx.runtime.inspect(r.app, servingProcess(r), relName(r));

function authFor(ctx: Ctx, ref: string): RegistryAuth | undefined {
  const registry = parseImageRef(ref)?.registry;
  const enc = registry ? ctx.store.registryAuth(registry) : undefined;
  return enc ? ctx.cipher.decryptJSON<RegistryAuth>(enc) : undefined;
}

export interface Execution {
  deployId: number; kind: DeployKind; target: ReleaseRow; live: ReleaseRow | null; targetRunning: boolean;
  timeoutMs: number; releaseTimeoutMs: number; releaseCommand?: string[]; signal: AbortSignal; emit: Emit;
}

export async function execute(ctx: Ctx, x: Execution): Promise<DeployResult> {
  const started = Date.now();
  const { deployId, kind, target, live } = x;
  const app = target.app;
  const input = {
    kind, target, live, releases: ctx.store.releasesOf(app), targetRunning: x.targetRunning, releaseCommand: x.releaseCommand,
    deployTimeoutMs: x.timeoutMs, refreshMs: ctx.settings.upstream_refresh_ms, keepReleases: ctx.settings.keep_releases,
  };
  const steps = planDeploy(input);
  const name = releaseNamer(input);
  x.emit({ type: 'plan', deploy: deployId, release: relName(target), steps: steps.map((s) => describeStep(s, name)) });
  ctx.log.info({ app, deploy: deployId, kind, release: relName(target), steps: steps.map((s) => s.kind) }, 'deploy started');
  const run: RunState = { unit: x.targetRunning ? await unitOf(ctx, target) : null };
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
    await undoBeforeSwitch(ctx, target, x.targetRunning, run.unit).catch((ce) => warnings.push(`clean-up: ${asBerthError(ce).message}`));
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
  ctx.restarts.delete(target.app); // a new live release: the reconcile's count starts again
  return warmUntil;
}

/** A failed or aborted deploy leaves no trace of the new release running. */
export async function undoBeforeSwitch(ctx: Ctx, target: ReleaseRow, targetWasRunning: boolean, unit: Unit | null): Promise<void> {
  if (targetWasRunning) return; // a warm release we only health-checked stays as it was
  const u = unit ?? await unitOf(ctx, target);
  if (u) await ctx.runtime.remove(u);
  if (target.state === 'pending') ctx.store.setReleaseState(target.id, 'failed');
}

interface RunState { unit: Unit | null }

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
      return info.id.slice(0, 19);
    }
    case 'release_command': {
      const r = await rt.runOnce(processSpec(ctx, target), step.cmd, { timeoutMs: x.releaseTimeoutMs, signal: x.signal });
      if (r.exitCode !== 0) {
        throw new BerthError('command_failed', `release command exited with ${r.exitCode}`,
          x.live ? `the live release ${relName(x.live)} was not touched` : 'no release of the app was started', { logs: logExcerpt(r.output, 20) });
      }
      return `exit 0`;
    }
    case 'start': {
      run.unit = await rt.start(processSpec(ctx, target));
      return run.unit.name;
    }
    case 'health': {
      if (!run.unit) throw new BerthError('internal', `release ${relName(target)} has no container`);
      const r = await waitHealthy(rt, run.unit, { path: step.path, port: step.port }, step.timeoutMs, x.signal, meanwhile(x.live ? relName(x.live) : null));
      return `healthy after ${r.ms} ms`;
    }
    case 'route':
      return ctx.proxy.ensureRoute({
        app: target.app, domains: ctx.store.domainsOf(target.app),
        upstream: rt.servingName(target.app, servingProcess(target)), port: target.port,
      });
    case 'switch': {
      await rt.activate(run.unit!, () => pauseIfHooked(ctx, 'switch.mid'));
      await pauseIfHooked(ctx, 'switch.renamed'); // crash tests: switched in the runtime, not yet in the state
      const warmUntil = commitSwitch(ctx, x.deployId, target, x.live);
      return x.live ? `${relName(x.live)} stays warm until ${warmUntil}` : undefined;
    }
    case 'settle':
      await new Promise((r) => setTimeout(r, step.ms));
      return undefined;
    case 'retire':
      // End their warm window now; the janitor stops them right after this deploy lets go of
      // the lock, so stopping old containers is not on the deploy's path.
      for (const id of step.releases) ctx.store.setReleaseState(id, 'warm', new Date().toISOString());
      return step.releases.map((id) => relName(ctx.store.getRelease(id)!)).join(', ');
    case 'prune':
      for (const id of step.releases) await pruneRelease(ctx, ctx.store.getRelease(id)!);
      return undefined;
  }
}

/** Stops a release that no longer serves (its in-flight requests get the drain timeout). */
export async function retireRelease(ctx: Ctx, r: ReleaseRow): Promise<void> {
  const u = await unitOf(ctx, r);
  if (u && !u.serving) {
    await ctx.runtime.stop(u, ctx.settings.drain_timeout_ms);
    await ctx.runtime.remove(u);
  }
  ctx.store.setReleaseState(r.id, 'stopped');
}

async function pruneRelease(ctx: Ctx, r: ReleaseRow): Promise<void> {
  const u = await unitOf(ctx, r);
  if (u && !u.serving) await ctx.runtime.remove(u);
  const stillUsed = ctx.store.releasesOf(r.app).some((o) => o.id !== r.id && o.image_id === r.image_id && o.state !== 'pruned' && o.state !== 'failed');
  if (r.image_id && !stillUsed) await ctx.runtime.removeImage(r.image_id);
  ctx.store.setReleaseState(r.id, 'pruned');
}
