// Deploy, rollback and abort requests: validated at once, then everything the plan rests on
// (the live release, its image and port) is read inside the app's lock, so an operation that
// waited behind another plans from what that one left, never from what it saw before.
import { BerthError, asBerthError, ValidationError } from '../../lib/errors.js';
import * as v from '../../lib/validate.js';
import type { DeployKind, ReleaseRow } from '../../state/store.js';
import type { Ctx } from '../context.js';
import { type BuildSpec, buildImage, describeBuild } from './build.js';
import { readsOtherStore, releaseEnv } from './env.js';
import { serviceEnv } from '../shared-services/services.js';
import { type DeployResult, type Emit, execute, formationOf, relName, unitOf } from './execute.js';
import { type ProcessRequest, releaseProcesses, replicasOf, workersOf } from './processes.js';
import { describeStep, planDeploy, releaseNamer } from './plan.js';
import { describeSpecBuilds, draftFromSpec, specSources } from './spec-draft.js';
import { formationFromSpec } from './from-spec.js';
import { releaseCommandFor, specOf } from './release-spec.js';
import { changeDomains } from '../apps/domains.js';
import type { AppSpec } from '../spec/index.js';

export { type DeployEvent, type DeployResult, type Emit, relName } from './execute.js';

export interface DeployRequest {
  app: string;
  kind: 'deploy' | 'config';
  image?: string;
  /** Build the image from source first (instead of `image`). */
  build?: BuildSpec;
  port?: number;
  healthPath?: string;
  releaseCommand?: string[];
  /** Processes besides web to add, change or (null) remove; the live release's otherwise. */
  processes?: ProcessRequest;
  timeoutMs?: number;
  releaseTimeoutMs?: number;
  lockTimeoutMs?: number;
  dryRun?: boolean;
  actor: string;
  /** Shown in the release list; a config deploy says "config change" without one. */
  note?: string;
  /** The app's description (berth.yml or compose), kept with the release (release-spec.ts). */
  spec?: AppSpec;
  /** Where the description's relative paths (build contexts) start: its file's directory. */
  specDir?: string;
  /** A change the release is made with (a restore's move onto its new database), applied once
   *  this deploy holds the app's lock and undone there when it fails: a deploy waiting behind
   *  it never reads the change half made. */
  inLock?: InLockChange;
}

export interface InLockChange { apply(): void; undo(): void }

function mustApp(ctx: Ctx, name: string) {
  const app = ctx.store.getApp(v.appName(name));
  if (!app) throw new BerthError('not_found', `app ${name} not found`, 'list apps with: berth apps list');
  return app;
}

const liveOf = (ctx: Ctx, app: string): ReleaseRow | null => {
  const row = ctx.store.getApp(app);
  return row?.live_release ? ctx.store.getRelease(row.live_release)! : null;
};

/** What the new release is made of: the request, else the live release (pure). A release
 *  without a new image runs the live one's image id, so a tag re-pointed since ships nothing new. */
export function targetOf(req: Pick<DeployRequest, 'image' | 'port' | 'healthPath'>, live: ReleaseRow | null, app: { port: number; health_path: string }) {
  const image = req.image ?? live?.image;
  if (!image) throw new ValidationError('image', 'is required for the first deploy', 'berth deploy APP --image REF');
  return {
    image, imageId: req.image ? null : live?.image_id ?? null,
    port: req.port ?? live?.port ?? app.port,
    healthPath: req.healthPath ?? live?.health_path ?? app.health_path,
  };
}

/** Deploys a new release: a new image, or the live image with changed config. */
export async function deploy(ctx: Ctx, req: DeployRequest, emit: Emit): Promise<DeployResult> {
  const app = mustApp(ctx, req.app);
  const request = {
    image: req.image === undefined ? undefined : v.imageRef(req.image),
    port: req.port === undefined ? undefined : v.port(req.port),
    healthPath: req.healthPath === undefined ? undefined : v.healthPath(req.healthPath),
  };
  if (req.build && request.image) throw new ValidationError('image', 'give an image or a build, not both');
  // a build's image is known once built: until then the plan names what it will be
  const planned = req.build ? { ...request, image: `berth/${app.name}:build-(hash of the source)` } : request;
  const timeoutMs = req.timeoutMs ?? ctx.settings.deploy_timeout_ms;
  const releaseTimeoutMs = req.releaseTimeoutMs ?? ctx.settings.release_timeout_ms;
  if (req.dryRun && req.spec) {
    const live = liveOf(ctx, app.name);
    const steps = [...describeSpecBuilds(req.spec, req.specDir ?? '.', req.image),
      `make a release of processes ${Object.keys(req.spec.processes).sort().join(', ') || '(none)'} from the description`,
      ...(req.spec.release ? [`run release command: ${req.spec.release.command.join(' ')}`] : []),
      'start them beside the live release, wait for their health checks, switch, then stop the old processes'];
    return { deploy: 0, app: app.name, kind: req.kind, release: 'next', previous: live ? relName(live) : null, state: 'planned', ms: 0, steps, warnings: [] };
  }
  if (req.dryRun) {
    const live = liveOf(ctx, app.name);
    const t = targetOf(planned, live, app);
    const releases = ctx.store.releasesOf(app.name);
    // not created yet: id 0, named by the seq it would get
    const fake = { id: 0, seq: (releases[0]?.seq ?? 0) + 1, state: 'pending' as const, port: t.port, image_id: t.imageId, image: t.image,
      health_path: t.healthPath };
    const formation = formationOf(ctx, app.name);
    const workers = workersOf({ processes: releaseProcesses(live, app.limits, req.processes) });
    const input = { kind: req.kind, target: fake, live, releases, targetRunning: false,
      releaseCommand: releaseCommandFor(req.kind, req.releaseCommand, live, releaseTimeoutMs)?.command,
      deployTimeoutMs: timeoutMs, refreshMs: ctx.settings.upstream_refresh_ms, keepReleases: ctx.settings.keep_releases,
      workers: workers.map((process) => ({ process, replicas: replicasOf(formation, process) })), liveHasWorkers: !!live && workersOf(live).length > 0,
      workerUpMs: ctx.settings.worker_up_ms };
    const name = releaseNamer(input);
    const steps = [...(req.build ? [describeBuild(req.build)] : []), ...planDeploy(input).map((s) => describeStep(s, name))];
    return { deploy: 0, app: app.name, kind: req.kind, release: 'next', previous: live ? relName(live) : null, state: 'planned', ms: 0, steps, warnings: [] };
  }
  if (req.spec) return deployFromSpec(ctx, app.name, req, req.spec, { timeoutMs, releaseTimeoutMs }, emit);
  // fail before taking the lock when there is nothing to deploy, or the processes asked for are wrong
  targetOf(planned, liveOf(ctx, app.name), app);
  releaseProcesses(liveOf(ctx, app.name), app.limits, req.processes);
  return underLock(ctx, { app: app.name, kind: req.kind, actor: req.actor }, req.lockTimeoutMs, req.inLock, async (deployId, signal) => {
    req.inLock?.apply();
    const live = liveOf(ctx, app.name);
    const built = req.build ? await buildImage(ctx, app.name, req.build, { deployId, actor: req.actor, live: live && relName(live), emit, signal }) : null;
    const t = targetOf(built ? { ...request, image: built.tag } : request, live, ctx.store.getApp(app.name)!);
    if (request.port !== undefined || request.healthPath !== undefined) ctx.store.updateAppDefaults(app.name, t.port, t.healthPath);
    const seqNext = (ctx.store.releasesOf(app.name)[0]?.seq ?? 0) + 1;
    const release = releaseCommandFor(req.kind, req.releaseCommand, live, releaseTimeoutMs);
    const target = ctx.store.insertRelease({
      app: app.name, image: t.image, image_id: built?.imageId ?? t.imageId, digest: t.imageId ? live?.digest ?? null : null,
      port: t.port, health_path: t.healthPath,
      processes: releaseProcesses(live, ctx.store.getApp(app.name)!.limits, req.processes),
      env: ctx.cipher.encryptJSON(releaseEnv(ctx, app.name, `v${seqNext}`)), actor: req.actor, spec: JSON.stringify({ ...(live ? specOf(live) : {}), release }),
      note: req.note ?? (built ? `built from ${req.build!.context}` : req.kind === 'config' ? 'config change' : null),
    });
    ctx.store.setDeployReleases(deployId, target.id, live?.id ?? null);
    return execute(ctx, {
      deployId, kind: req.kind, target, live, targetRunning: false, timeoutMs, signal, emit,
      // the flag, when given, over the deadline the release command was kept with
      releaseCommand: release?.command, releaseProcess: release?.process ?? undefined,
      releaseTimeoutMs: req.releaseTimeoutMs ?? release?.timeout_ms ?? releaseTimeoutMs,
    });
  });
}

/** A deploy of an app's description: every process, route and job it names, built from source
 *  where it says so; what the file leaves out is gone from the new release. */
async function deployFromSpec(ctx: Ctx, app: string, req: DeployRequest, spec: AppSpec, t: { timeoutMs: number; releaseTimeoutMs: number },
  emit: Emit): Promise<DeployResult> {
  const dir = req.specDir ?? '/nonexistent';
  if (!req.specDir && specSources(spec, dir, req.image).builds.length) {
    throw new ValidationError('spec_dir', 'is required for a description that builds from source');
  }
  formationFromSpec(spec, {}); // its errors before the lock
  const image = req.image === undefined ? undefined : v.imageRef(req.image);
  const result = await underLock(ctx, { app, kind: req.kind, actor: req.actor }, req.lockTimeoutMs, undefined, async (deployId, signal) => {
    const live = liveOf(ctx, app);
    const d = await draftFromSpec(ctx, app, spec, dir, image, { deployId, actor: req.actor, live: live && relName(live), emit, signal });
    const seqNext = (ctx.store.releasesOf(app)[0]?.seq ?? 0) + 1;
    const target = ctx.store.insertRelease({
      app, image: d.image, image_id: d.imageId, digest: null, port: d.port, health_path: d.healthPath, processes: d.processes, spec: d.spec,
      env: ctx.cipher.encryptJSON(releaseEnv(ctx, app, `v${seqNext}`)), actor: req.actor, note: req.note ?? 'from its description',
    });
    if (d.formation) ctx.store.setFormation(app, d.formation);
    ctx.store.setDeployReleases(deployId, target.id, live?.id ?? null);
    return execute(ctx, {
      deployId, kind: req.kind, target, live, targetRunning: false, ...t, signal, emit,
      ...(d.releaseCommand ? { releaseCommand: d.releaseCommand.cmd, releaseProcess: d.releaseCommand.process ?? undefined,
        releaseTimeoutMs: req.releaseTimeoutMs ?? d.releaseCommand.timeoutMs } : {}),
    });
  });
  if (!req.dryRun) await domainsFromSpec(ctx, app, spec.domains, req.actor, result.warnings);
  return result;
}

/** The file's domains become the app's, once its release serves (one route change); a domain
 *  another app holds is a warning: the release serves on the domains the app had. */
async function domainsFromSpec(ctx: Ctx, app: string, domains: string[], actor: string, warnings: string[]): Promise<void> {
  if (!domains.length) return;
  const before = ctx.store.domainsOf(app);
  const add = domains.filter((d) => !before.includes(d));
  const remove = before.filter((d) => !domains.includes(d));
  if (!add.length && !remove.length) return;
  try {
    await changeDomains(ctx, app, { add, remove }, actor);
  } catch (e) {
    warnings.push(`domains: ${asBerthError(e).message}; the app keeps ${before.join(', ')}`);
  }
}

/** Records the deploy, takes the app's lock (or fails naming its holder), runs fn, lets go;
 *  a change made in the lock (fn applies it) is undone before letting go when fn fails. */
async function underLock<T>(ctx: Ctx, d: { app: string; kind: DeployKind; actor: string }, lockTimeoutMs: number | undefined,
  change: InLockChange | undefined, fn: (deployId: number, signal: AbortSignal) => Promise<T>): Promise<T> {
  const row = ctx.store.insertDeploy({ ...d, release_id: null, previous_release_id: null });
  let signal: AbortSignal;
  try {
    signal = (await ctx.locks.acquire(d.app, { deployId: row.id, what: `${d.kind} #${row.id}`, actor: d.actor }, lockTimeoutMs ?? 0)).controller.signal;
  } catch (e) {
    ctx.store.finishDeploy(row.id, 'failed', asBerthError(e).message);
    throw e;
  }
  try {
    return await fn(row.id, signal);
  } catch (e) {
    if (ctx.store.getDeploy(row.id)?.state === 'running') ctx.store.finishDeploy(row.id, 'failed', asBerthError(e).message);
    change?.undo();
    throw e;
  } finally {
    ctx.locks.release(d.app, row.id);
    ctx.hooks.afterDeploy?.();
  }
}

export interface RollbackRequest { app: string; to?: string; actor: string; lockTimeoutMs?: number; timeoutMs?: number }

/** The release a rollback goes to (pure): the one named, else the newest older one that can run. */
export function rollbackTarget(releases: ReleaseRow[], live: ReleaseRow | null, app: string, to?: string): ReleaseRow {
  const target = to
    ? releases.find((r) => relName(r) === to)
    : releases.find((r) => live && r.seq < live.seq && (r.state === 'warm' || r.state === 'stopped'));
  if (!target) {
    throw new BerthError('not_found', to ? `release ${to} of ${app} not found` : `${app} has no earlier release to roll back to`,
      `list releases with: berth releases ${app}`);
  }
  if (live && target.id === live.id) throw new BerthError('conflict', `${relName(target)} is already live`);
  if (target.state === 'pruned' || target.state === 'failed' || target.state === 'pending') {
    throw new BerthError('conflict', `release ${relName(target)} is ${target.state} and cannot be rolled back to`, `list releases with: berth releases ${app}`);
  }
  return target;
}

/** A rollback never goes to a release from before a move of object storage, or of the app's
 *  database (berth backup restore): it would serve from data that stopped being updated at the
 *  move (and a restore's purge could drop it under it). */
function notOnOldStore(ctx: Ctx, app: string, target: ReleaseRow): ReleaseRow {
  const env = ctx.cipher.decryptJSON<Record<string, string>>(target.env);
  const now = serviceEnv(ctx, app);
  const dbOf = (url: string | undefined) => (url ? new URL(url).pathname.slice(1) : null);
  if (dbOf(env.DATABASE_URL) !== dbOf(now.DATABASE_URL)) {
    throw new BerthError('conflict',
      `release ${relName(target)} of ${app} uses the database ${dbOf(env.DATABASE_URL)}, which a restore moved the app away from`,
      `roll back to a release made since the restore (berth releases ${app}), or deploy that image again: berth deploy ${app} --image ${target.image}`);
  }
  if (readsOtherStore(env, now)) {
    throw new BerthError('conflict', `release ${relName(target)} of ${app} reads object storage at ${env.S3_ENDPOINT}, which the platform moved away from`,
      `roll back to a release made since the move (berth releases ${app}), or deploy that image again: berth deploy ${app} --image ${target.image}`);
  }
  return target;
}

export async function rollback(ctx: Ctx, req: RollbackRequest, emit: Emit): Promise<DeployResult> {
  const app = mustApp(ctx, req.app);
  const to = req.to === undefined ? undefined : v.releaseId(req.to, 'to');
  notOnOldStore(ctx, app.name, rollbackTarget(ctx.store.releasesOf(app.name), liveOf(ctx, app.name), app.name, to)); // a clear error before the lock
  return underLock(ctx, { app: app.name, kind: 'rollback', actor: req.actor }, req.lockTimeoutMs, undefined, async (deployId, signal) => {
    const live = liveOf(ctx, app.name);
    const target = notOnOldStore(ctx, app.name, rollbackTarget(ctx.store.releasesOf(app.name), live, app.name, to));
    ctx.store.setDeployReleases(deployId, target.id, live?.id ?? null);
    // only a warm release's container is reused: a stopped one may still be draining on its
    // way out (retireExpired), and is started afresh from its image
    const unit = target.state === 'warm' ? await unitOf(ctx, target) : null;
    return execute(ctx, {
      deployId, kind: 'rollback', target, live, targetRunning: !!unit?.running, signal, emit,
      timeoutMs: req.timeoutMs ?? ctx.settings.deploy_timeout_ms, releaseTimeoutMs: ctx.settings.release_timeout_ms,
    });
  });
}

export function abort(ctx: Ctx, appName: string, actor: string): { deploy: number } {
  const app = mustApp(ctx, appName);
  const h = ctx.locks.holder(app.name);
  if (!h || h.kind !== 'operation' || h.deployId <= 0) throw new BerthError('not_found', `no deploy of ${app.name} is running`);
  h.controller.abort();
  ctx.store.audit({ actor, action: 'deploy.abort', app: app.name, result: 'requested', detail: { deploy: h.deployId } });
  return { deploy: h.deployId };
}
