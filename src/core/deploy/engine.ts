// The deploy executor: takes a plan and runs it step by step, journaling each step in the
// state so that a crash can be finished or rolled back (see recover.ts). Until the switch,
// every failure leaves the live release untouched; after it, the new release serves.
import { BerthError, asBerthError, ValidationError } from '../../lib/errors.js';
import * as v from '../../lib/validate.js';
import type { ProcessSpec, RegistryAuth, Unit } from '../../runtime/types.js';
import type { DeployKind, ReleaseRow } from '../../state/store.js';
import { type Ctx, pauseIfHooked } from '../context.js';
import { releaseEnv } from './env.js';
import { waitHealthy } from './health.js';
import { acquire, release as releaseLock, runningDeploy } from './lock.js';
import { describeStep, planDeploy, type Step } from './plan.js';

export type DeployEvent =
  | { type: 'plan'; deploy: number; release: string; steps: string[] }
  | { type: 'step'; step: Step['kind']; state: 'started' | 'done'; detail?: string; ms?: number }
  | { type: 'progress'; line: string };

export type Emit = (e: DeployEvent) => void;

export interface DeployResult {
  deploy: number; app: string; kind: DeployKind; release: string; previous: string | null;
  state: 'succeeded' | 'planned'; ms: number; steps?: string[]; warnings: string[];
}

export interface DeployRequest {
  app: string;
  kind: 'deploy' | 'config';
  image?: string;
  port?: number;
  healthPath?: string;
  releaseCommand?: string[];
  timeoutMs?: number;
  lockTimeoutMs?: number;
  dryRun?: boolean;
  actor: string;
}

export const relName = (r: Pick<ReleaseRow, 'seq'>) => `v${r.seq}`;

function processSpec(ctx: Ctx, r: ReleaseRow): ProcessSpec {
  return {
    app: r.app, release: relName(r), process: 'web', image: r.image_id ?? r.image,
    env: ctx.cipher.decryptJSON<Record<string, string>>(r.env), port: r.port,
  };
}

function registryOf(ref: string): string {
  const first = ref.split('/')[0]!;
  return ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

function authFor(ctx: Ctx, ref: string): RegistryAuth | undefined {
  const enc = ctx.store.registryAuth(registryOf(ref));
  return enc ? ctx.cipher.decryptJSON<RegistryAuth>(enc) : undefined;
}

function mustApp(ctx: Ctx, name: string) {
  const app = ctx.store.getApp(v.appName(name));
  if (!app) throw new BerthError('not_found', `app ${name} not found`, 'list apps with: berth apps list');
  return app;
}

/** Deploys a new release: a new image, or the live image with changed config. */
export async function deploy(ctx: Ctx, req: DeployRequest, emit: Emit): Promise<DeployResult> {
  const app = mustApp(ctx, req.app);
  const live = app.live_release ? ctx.store.getRelease(app.live_release)! : null;
  const image = req.image ? v.imageRef(req.image) : live?.image;
  if (!image) throw new ValidationError('image', 'is required for the first deploy', `berth deploy ${app.name} --image REF`);
  const port = req.port !== undefined ? v.port(req.port) : (live?.port ?? app.port);
  const healthPath = req.healthPath !== undefined ? v.healthPath(req.healthPath) : (live?.health_path ?? app.health_path);
  const timeoutMs = req.timeoutMs ?? ctx.settings.deploy_timeout_ms;
  if (req.dryRun) {
    const fake = { id: 0, seq: 0, state: 'pending' as const, port, image_id: null, image, health_path: healthPath };
    const steps = planDeploy({ kind: req.kind, target: fake, live, releases: ctx.store.releasesOf(app.name), targetRunning: false,
      releaseCommand: req.releaseCommand, deployTimeoutMs: timeoutMs, refreshMs: ctx.settings.upstream_refresh_ms, keepReleases: ctx.settings.keep_releases });
    return { deploy: 0, app: app.name, kind: req.kind, release: 'next', previous: live ? relName(live) : null, state: 'planned', ms: 0, steps: steps.map(describeStep), warnings: [] };
  }
  return underLock(ctx, { app: app.name, kind: req.kind, release_id: null, previous_release_id: live?.id ?? null, actor: req.actor }, req.lockTimeoutMs, async (deployId) => {
    if (req.port !== undefined || req.healthPath !== undefined) ctx.store.updateAppDefaults(app.name, port, healthPath);
    const seqNext = (ctx.store.releasesOf(app.name)[0]?.seq ?? 0) + 1;
    const target = ctx.store.insertRelease({
      app: app.name, image, image_id: null, digest: null, port, health_path: healthPath, processes: JSON.stringify({ web: {} }),
      env: ctx.cipher.encryptJSON(releaseEnv(ctx, app.name, `v${seqNext}`)), actor: req.actor,
      note: req.kind === 'config' ? 'config change' : null,
    });
    ctx.store.setDeployRelease(deployId, target.id);
    return execute(ctx, deployId, req.kind, target, live, false, timeoutMs, req.releaseCommand, emit);
  });
}

/** Records the deploy, takes the app's lock (or fails naming its holder), runs fn, lets go. */
async function underLock<T>(ctx: Ctx, d: Parameters<Ctx['store']['insertDeploy']>[0], lockTimeoutMs: number | undefined, fn: (deployId: number) => Promise<T>): Promise<T> {
  const row = ctx.store.insertDeploy(d);
  try {
    await acquire(ctx, d.app, row.id, d.actor, lockTimeoutMs ?? 0);
  } catch (e) {
    ctx.store.finishDeploy(row.id, 'failed', asBerthError(e).message);
    throw e;
  }
  try {
    return await fn(row.id);
  } finally {
    releaseLock(ctx, d.app, row.id);
    ctx.hooks.afterDeploy?.();
  }
}

export interface RollbackRequest { app: string; to?: string; actor: string; lockTimeoutMs?: number; timeoutMs?: number }

export async function rollback(ctx: Ctx, req: RollbackRequest, emit: Emit): Promise<DeployResult> {
  const app = mustApp(ctx, req.app);
  const live = app.live_release ? ctx.store.getRelease(app.live_release)! : null;
  const releases = ctx.store.releasesOf(app.name);
  const target = req.to
    ? releases.find((r) => relName(r) === v.releaseId(req.to, 'to'))
    : releases.find((r) => live && r.seq < live.seq && (r.state === 'warm' || r.state === 'stopped'));
  if (!target) {
    throw new BerthError('not_found', req.to ? `release ${req.to} of ${app.name} not found` : `${app.name} has no earlier release to roll back to`,
      `list releases with: berth releases ${app.name}`);
  }
  if (live && target.id === live.id) throw new BerthError('conflict', `${relName(target)} is already live`);
  if (target.state === 'pruned' || target.state === 'failed' || target.state === 'pending') {
    throw new BerthError('conflict', `release ${relName(target)} is ${target.state} and cannot be rolled back to`, `list releases with: berth releases ${app.name}`);
  }
  return underLock(ctx, { app: app.name, kind: 'rollback', release_id: target.id, previous_release_id: live?.id ?? null, actor: req.actor }, req.lockTimeoutMs, async (deployId) => {
    const unit = await ctx.runtime.inspect(app.name, 'web', relName(target));
    return execute(ctx, deployId, 'rollback', target, live, !!unit?.running, req.timeoutMs ?? ctx.settings.deploy_timeout_ms, undefined, emit);
  });
}

export function abort(ctx: Ctx, appName: string, actor: string): { deploy: number } {
  const app = mustApp(ctx, appName);
  const r = runningDeploy(app.name);
  if (!r) throw new BerthError('not_found', `no deploy of ${app.name} is running`);
  r.controller.abort();
  ctx.store.audit({ actor, action: 'deploy.abort', app: app.name, result: 'requested', detail: { deploy: r.deployId } });
  return { deploy: r.deployId };
}

async function execute(
  ctx: Ctx, deployId: number, kind: DeployKind, target: ReleaseRow, live: ReleaseRow | null, targetRunning: boolean,
  timeoutMs: number, releaseCommand: string[] | undefined, emit: Emit,
): Promise<DeployResult> {
  const started = Date.now();
  const app = target.app;
  const signal = runningDeploy(app)!.controller.signal;
  const steps = planDeploy({
    kind, target, live, releases: ctx.store.releasesOf(app), targetRunning, releaseCommand,
    deployTimeoutMs: timeoutMs, refreshMs: ctx.settings.upstream_refresh_ms, keepReleases: ctx.settings.keep_releases,
  });
  emit({ type: 'plan', deploy: deployId, release: relName(target), steps: steps.map(describeStep) });
  ctx.log.info({ app, deploy: deployId, kind, release: relName(target), steps: steps.map((s) => s.kind) }, 'deploy started');
  let unit: Unit | null = targetRunning ? await ctx.runtime.inspect(app, 'web', relName(target)) : null;
  let switched = false;
  const warnings: string[] = [];
  try {
    for (const step of steps) {
      if (!switched && signal.aborted) throw new BerthError('aborted', `deploy #${deployId} aborted before ${step.kind}`);
      await pauseIfHooked(ctx, step.kind);
      const t0 = Date.now();
      ctx.store.journal(deployId, step.kind, 'started');
      emit({ type: 'step', step: step.kind, state: 'started', detail: describeStep(step) });
      try {
        const detail = await runStep(ctx, step, { target, live, deployId, timeoutMs, signal, emit, getUnit: () => unit, setUnit: (u) => { unit = u; } });
        if (step.kind === 'switch') switched = true;
        if (step.kind !== 'switch') ctx.store.journal(deployId, step.kind, 'done', detail);
        emit({ type: 'step', step: step.kind, state: 'done', ms: Date.now() - t0, detail });
      } catch (e) {
        if (!switched) throw e;
        // After the switch the new release serves: clean-up trouble is a warning, not a failure.
        warnings.push(`${step.kind}: ${asBerthError(e).message}`);
        ctx.store.journal(deployId, step.kind, 'failed', asBerthError(e).message);
      }
    }
    ctx.store.finishDeploy(deployId, 'succeeded');
    ctx.store.audit({ actor: target.actor, action: kind, app, result: 'succeeded', detail: { deploy: deployId, release: relName(target), image: target.image, warnings } });
    ctx.log.info({ app, deploy: deployId, release: relName(target), ms: Date.now() - started }, 'deploy succeeded');
    return { deploy: deployId, app, kind, release: relName(target), previous: live ? relName(live) : null, state: 'succeeded', ms: Date.now() - started, warnings };
  } catch (e) {
    const err = asBerthError(e);
    await undoBeforeSwitch(ctx, target, targetRunning, unit).catch((ce) => warnings.push(`clean-up: ${asBerthError(ce).message}`));
    ctx.store.finishDeploy(deployId, err.code === 'aborted' ? 'aborted' : 'failed', err.message);
    ctx.store.audit({ actor: target.actor, action: kind, app, result: err.code === 'aborted' ? 'aborted' : 'failed', detail: { deploy: deployId, release: relName(target), error: err.message } });
    ctx.log.warn({ app, deploy: deployId, err: err.message }, 'deploy failed; the live release keeps serving');
    throw new BerthError(err.code, `deploy #${deployId} of ${app} failed: ${err.message}`, err.hint ?? (live ? `${relName(live)} keeps serving` : undefined),
      { ...err.details, deploy: deployId, live: live ? relName(live) : null });
  }
}

/** A failed or aborted deploy leaves no trace of the new release running. */
export async function undoBeforeSwitch(ctx: Ctx, target: ReleaseRow, targetWasRunning: boolean, unit: Unit | null): Promise<void> {
  if (targetWasRunning) return; // a warm release we only health-checked stays as it was
  const u = unit ?? await ctx.runtime.inspect(target.app, 'web', relName(target));
  if (u) await ctx.runtime.remove(u);
  if (target.state === 'pending') ctx.store.setReleaseState(target.id, 'failed');
}

interface StepCtx {
  target: ReleaseRow; live: ReleaseRow | null; deployId: number; timeoutMs: number; signal: AbortSignal; emit: Emit;
  getUnit: () => Unit | null; setUnit: (u: Unit) => void;
}

async function runStep(ctx: Ctx, step: Step, s: StepCtx): Promise<string | undefined> {
  const rt = ctx.runtime;
  switch (step.kind) {
    case 'pull': {
      const info = await rt.ensureImage(s.target.image, authFor(ctx, s.target.image), (line) => s.emit({ type: 'progress', line }));
      ctx.store.setReleaseImage(s.target.id, info.id, info.digest);
      s.target.image_id = info.id;
      s.target.digest = info.digest;
      return info.id.slice(0, 19);
    }
    case 'release_command': {
      const r = await rt.runOnce(processSpec(ctx, s.target), step.cmd, s.timeoutMs);
      if (r.exitCode !== 0) {
        throw new BerthError('command_failed', `release command exited with ${r.exitCode}`, 'the live release was not touched',
          { logs: r.output.trim().split('\n').slice(-20) });
      }
      return `exit 0`;
    }
    case 'start': {
      s.setUnit(await rt.start(processSpec(ctx, s.target)));
      return s.getUnit()!.name;
    }
    case 'health': {
      const unit = s.getUnit();
      if (!unit) throw new BerthError('internal', `release ${relName(s.target)} has no container`);
      const r = await waitHealthy(rt, unit, step.path, step.port, step.timeoutMs, s.signal);
      return `healthy after ${r.ms} ms`;
    }
    case 'route': {
      const change = await ctx.proxy.ensureRoute({
        app: s.target.app, domains: ctx.store.domainsOf(s.target.app), upstream: rt.servingName(s.target.app, 'web'), port: s.target.port,
      });
      return change;
    }
    case 'switch': {
      await rt.activate(s.getUnit()!, () => pauseIfHooked(ctx, 'switch.mid'));
      const warmUntil = new Date(Date.now() + ctx.settings.warm_ms).toISOString();
      ctx.store.tx(() => {
        ctx.store.setLive(s.target.app, s.target.id);
        ctx.store.setReleaseState(s.target.id, 'live');
        if (s.live) ctx.store.setReleaseState(s.live.id, 'warm', warmUntil);
        ctx.store.journal(s.deployId, 'switch', 'done', { from: s.live?.id ?? null, to: s.target.id });
      });
      return s.live ? `${relName(s.live)} stays warm until ${warmUntil}` : undefined;
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
  const u = await ctx.runtime.inspect(r.app, 'web', relName(r));
  if (u && !u.serving) {
    await ctx.runtime.stop(u, ctx.settings.drain_timeout_ms);
    await ctx.runtime.remove(u);
  }
  ctx.store.setReleaseState(r.id, 'stopped');
}

async function pruneRelease(ctx: Ctx, r: ReleaseRow): Promise<void> {
  const u = await ctx.runtime.inspect(r.app, 'web', relName(r));
  if (u && !u.serving) await ctx.runtime.remove(u);
  const stillUsed = ctx.store.releasesOf(r.app).some((o) => o.id !== r.id && o.image_id === r.image_id && o.state !== 'pruned' && o.state !== 'failed');
  if (r.image_id && !stillUsed) await ctx.runtime.removeImage(r.image_id);
  ctx.store.setReleaseState(r.id, 'pruned');
}

