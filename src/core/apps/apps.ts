// Apps: create, list, show, delete. Validation first; nothing reaches Docker or Caddy
// until the input is proven good.
import { asBerthError, BerthError, ValidationError } from '../../lib/errors.js';
import { redisCredential, type ServiceName, SERVICES } from '../../provisioning/model.js';
import { grantsOf, provisionApp } from '../shared-services/services.js';
import { enabledServices, serviceRecord } from '../shared-services/records.js';
import { pgConnectionsSetting } from '../shared-services/pg-limits.js';
import { objectStoreNotes, objectStoreWarnings } from '../shared-services/object-storage.js';
import { s3PublicDomain } from '../shared-services/public.js';
import { dropAppData, finalDump } from '../shared-services/purge.js';
import { dropReplacedDatabases } from '../backups/restore.js';
import { backupStatus } from '../backups/status.js';
import * as v from '../../lib/validate.js';
import type { Ctx, Restarts } from '../context.js';
import { type Unit, WEB } from '../../runtime/types.js';
import { relName } from '../deploy/engine.js';
import { sitesOf } from '../deploy/execute.js';
import { routeFor, whileLeaving } from './routes.js';
import { lastOomOf } from './oom.js';
import { changedLimits, ownLimits } from './limits.js';
import { effectiveLimits } from '../../lib/limits.js';
import { describeProcesses, limitsOf, primaryOf } from '../deploy/processes.js';
import { specOf } from '../deploy/release-spec.js';
import { probeUrl } from '../../lib/http-probe.js';
import { failingJobs } from '../cron/history.js';

/** A status line's note on cron jobs whose last run did not succeed (pure). */
export function cronNote(failing: { job: string; state: string; exit_code: number | null }[]): string {
  return failing.length ? `; cron ${failing.map((f) => `${f.job} ${f.state}${f.exit_code !== null ? ` (exit ${f.exit_code})` : ''}`).join(', ')}` : '';
}

const DELETE_LOCK_ID = -1; // an operation without a deploy row

export interface CreateAppInput {
  name: string; domains: string[]; port?: number; healthPath?: string; services?: string[]; pgConnections?: number; redis?: 'shared' | 'dedicated';
  /** Checked already (daemon/bodies.ts): memory in MB, cpus, pids, capabilities to add. */
  limits?: { memory?: number; cpus?: number; pids?: number; cap_add?: string[] };
}

export async function createApp(ctx: Ctx, input: CreateAppInput, actor: string) {
  const name = v.appName(input.name);
  if (!Array.isArray(input.domains) || input.domains.length === 0) {
    throw new BerthError('invalid', 'domains: at least one --domain is required', `berth apps create ${name} --domain ${name}.example.com`);
  }
  const domains = [...new Set(input.domains.map((d, i) => v.domain(d, `domains[${i}]`)))];
  const port = input.port === undefined ? 8000 : v.port(input.port);
  const healthPath = input.healthPath === undefined ? '/health' : v.healthPath(input.healthPath);
  const services = input.services === undefined ? enabledServices(ctx) : input.services.map((s, i) => {
    if (!(SERVICES as readonly string[]).includes(s)) {
      throw new ValidationError(`services[${i}]`, `${JSON.stringify(s)} is not a service`, `use ${SERVICES.join(', ')}`);
    }
    return s as ServiceName;
  });
  if (input.pgConnections !== undefined && !services.includes('postgres')) {
    throw new ValidationError('pg_connections', `${name} gets no PostgreSQL database, so it takes no connection limit`,
      'leave out --no-db, or --pg-connections');
  }
  const dedicatedRedis = input.redis === 'dedicated';
  if (dedicatedRedis && !services.includes('redis')) throw new BerthError('invalid', '--redis dedicated and --no-redis exclude each other');
  const existing = ctx.store.getApp(name);
  const had = existing ? grantsOf(ctx, name).redis : undefined;
  // its network holds what it uses: the shared Redis only for an app without one of its own (kept when run again)
  const network = { app: name, services: services.filter((s) => !(s === 'redis' && (dedicatedRedis || had?.dedicated))) };
  if (had && input.redis && !!had.dedicated !== dedicatedRedis) {
    throw new BerthError('conflict', `app ${name} already uses ${had.dedicated ? 'a Redis of its own' : 'the shared Redis'}`,
      'an app keeps the Redis it was created with; leave out --redis, or delete the app (--purge) first');
  }
  if (existing) {
    const have = ctx.store.domainsOf(name);
    if (JSON.stringify([...have].sort()) !== JSON.stringify([...domains].sort())) {
      throw new BerthError('conflict', `app ${name} already exists with domains ${have.join(', ')}`, 'choose another name, or delete it first');
    }
    // idempotent: repairs missing grants, network and route, never changes working credentials
    await Promise.all([ctx.runtime.ensureAppNetwork(network), provisionApp(ctx, name, services, { pgConnections: input.pgConnections, dedicatedRedis })]);
    await ctx.proxy.ensureRoute(routeFor(ctx, name));
    return { app: name, domains, services, resources: resourcesOf(ctx, name), warnings: warningsOf(ctx, name), created: false };
  }
  for (const d of domains) {
    const owner = ctx.store.domainOwner(d);
    if (owner) throw new BerthError('conflict', `domain ${d} is already used by app ${owner}`, `remove it from ${owner} first`);
    if (d === s3PublicDomain(ctx)) throw new BerthError('conflict', `domain ${d} is the public object storage endpoint`, 'choose another domain, or: berth services expose s3 --off');
  }
  ctx.store.tx(() => {
    ctx.store.insertApp({ name, port, health_path: healthPath });
    ctx.store.setDomains(name, domains);
    if (input.limits) ctx.store.setAppLimits(name, changedLimits({}, input.limits));
  });
  // Docker's work and the services' side by side; on failure the app stays: the same command finishes it
  await Promise.all([ctx.runtime.ensureAppNetwork(network), provisionApp(ctx, name, services, { pgConnections: input.pgConnections, dedicatedRedis })]);
  try {
    await ctx.proxy.ensureRoute(routeFor(ctx, name));
  } catch (e) {
    ctx.store.deleteApp(name); // the route was refused: leave no half-created app
    await ctx.proxy.removeRoute(name).catch((re: unknown) => ctx.log.error(
      { app: name, err: asBerthError(re).message }, 'removing a refused route failed; the next reconcile removes it'));
    throw e;
  }
  ctx.store.audit({ actor, action: 'apps.create', app: name, result: 'succeeded', detail: { domains, services } });
  return { app: name, domains, services, resources: resourcesOf(ctx, name), warnings: warningsOf(ctx, name), created: true };
}

/** What the app should know about where its data lives: said on apps create and apps show. */
function warningsOf(ctx: Ctx, app: string): string[] {
  return grantsOf(ctx, app).s3 ? objectStoreWarnings(serviceRecord(ctx, 's3')) : [];
}

/** How an app's live release is doing, in words a status line can show (pure). */
export function appStatus(live: boolean, serving: Unit | undefined, restarts: Restarts | undefined, oomAt?: string): string {
  if (!live) return 'not deployed';
  if (serving?.running) return oomAt ? `running (killed for passing its memory limit at ${oomAt}, restarted)` : 'running';
  if (serving?.oomKilled) return 'down: killed for passing its memory limit (raise it: berth apps limits NAME --memory 1g)';
  if (serving?.restarting) return 'crash-looping (it keeps exiting; its restart policy brings it back): see berth logs, or roll back';
  if (restarts && restarts.count >= 1) {
    return `down: restarted ${restarts.count === 1 ? 'once' : `${restarts.count} times`}, next attempt ${new Date(restarts.nextAt).toISOString()}` +
      `${restarts.lastError ? ` (${restarts.lastError})` : ''}`;
  }
  return 'down';
}

export async function listApps(ctx: Ctx) {
  const units = await ctx.runtime.list();
  return ctx.store.listApps().map((a) => {
    const live = a.live_release ? ctx.store.getRelease(a.live_release) : undefined;
    const serving = units.find((u) => u.app === a.name && u.serving);
    const oom = lastOomOf(ctx, a.name, live ? relName(live) : null);
    const cronFailing = failingJobs(ctx, a.name);
    const backup = backupStatus(ctx, a.name);
    return {
      name: a.name, domains: ctx.store.domainsOf(a.name), release: live ? relName(live) : null, image: live?.image ?? null,
      status: appStatus(!!live, serving, live && ctx.restarts.get(a.name)?.release === live.id ? ctx.restarts.get(a.name) : undefined, oom?.at)
        + cronNote(cronFailing) + (backup && (backup.state === 'failed' || backup.state === 'stale') ? `; backups ${backup.state}: ${backup.detail}` : ''),
      killed_for_memory: oom, cron_failing: cronFailing, backup,
    };
  });
}

/** What the app holds in the shared services, by name (no secrets). */
function resourcesOf(ctx: Ctx, app: string) {
  const g = grantsOf(ctx, app);
  return {
    database: g.postgres?.db ?? null,
    redis_user: g.redis ? `${redisCredential(g.redis).user} (keys ${g.redis.prefix}*)` : null,
    redis: g.redis ? (g.redis.dedicated
      ? `its own: ${ctx.runtime.services.dedicatedRedis.endpoint(app).host}, maxmemory ${ctx.settings.redis_dedicated_maxmemory_mb} MB`
      : `shared (maxmemory ${ctx.settings.redis_maxmemory_mb} MB for all apps together)`) : null,
    bucket: g.s3 ? `${g.s3.bucket} (${g.s3.keys ? `own key ${g.s3.accessKey}` : 'shared key: every app can read it'})` : null,
    object_storage: g.s3 ? objectStoreNotes(serviceRecord(ctx, 's3')) : null,
  };
}

/** An upstream app's service, probed from this host as berth probes a release: what a GET of its
 *  health path (its root without one) answers now. */
async function upstreamHealth(u: NonNullable<ReturnType<typeof specOf>['upstream']>): Promise<string> {
  const path = u.health?.path ?? '/';
  const t0 = Date.now();
  const r = await probeUrl(u.url, path, u.health?.timeout_ms ?? 3000);
  const ok = typeof r === 'number' && r >= 200 && r < 400;
  return `${ok ? 'healthy' : 'unhealthy'}: GET ${path} ${typeof r === 'number' ? `answered ${r}` : `failed (${r})`} in ${Date.now() - t0} ms`;
}

export async function showApp(ctx: Ctx, name: string) {
  const a = ctx.store.getApp(v.appName(name));
  if (!a) throw new BerthError('not_found', `app ${name} not found`, 'list apps with: berth apps list');
  const live = a.live_release ? ctx.store.getRelease(a.live_release) : undefined;
  const units = await ctx.runtime.list(a.name);
  return {
    name: a.name, created_at: a.created_at, domains: ctx.store.domainsOf(a.name), port: live?.port ?? a.port, health_path: live?.health_path ?? a.health_path,
    release: live ? relName(live) : null, image: live?.image ?? null, digest: live?.digest ?? null,
    processes: live ? describeProcesses(live, JSON.parse(a.formation) as Record<string, number>) : null,
    config_keys: Object.keys(ctx.store.configOf(a.name)),
    services: ctx.store.appServices(a.name),
    resources: resourcesOf(ctx, a.name),
    // what the next release gets, and what the live one runs with (set when it was made)
    limits: effectiveLimits(ownLimits(a)),
    live_limits: live && primaryOf(live) ? limitsOf(live, primaryOf(live)!) : null,
    killed_for_memory: lastOomOf(ctx, a.name, live ? relName(live) : null),
    cron_failing: failingJobs(ctx, a.name),
    pg_connections: pgConnectionsSetting(ctx, a.name),
    warnings: warningsOf(ctx, a.name),
    containers: units.map((u) => ({ name: u.name, release: u.release, process: u.process, replica: u.replica, running: u.running, serving: u.serving })),
    upstream: (live && specOf(live).upstream?.url) ?? ctx.runtime.servingName(a.name, (live && primaryOf(live)) ?? WEB),
    ...(live && specOf(live).upstream ? { upstream_health: await upstreamHealth(specOf(live).upstream!) } : {}),
    routes: live ? (specOf(live).routes ?? []).map((r) => `${r.path} -> ${r.kind === 'static' ? 'static site' : r.process}`
      + `${r.kind === 'process' && r.strip_prefix ? ' (prefix stripped)' : ''}`) : [],
  };
}

export async function deleteApp(ctx: Ctx, name: string, actor: string, opts: { purge?: boolean } = {}) {
  const app = v.appName(name);
  if (!ctx.store.getApp(app)) throw new BerthError('not_found', `app ${app} not found`);
  await ctx.locks.acquire(app, { deployId: DELETE_LOCK_ID, what: 'apps delete', actor }, 5000);
  let finalDumpPath: string | null = null;
  try {
    // Proven dump first: if it fails, nothing is deleted.
    const pgGrant = grantsOf(ctx, app).postgres;
    if (opts.purge && pgGrant) finalDumpPath = await finalDump(ctx, app, pgGrant);
    // Route next, so nobody is sent to containers about to go.
    await whileLeaving(ctx, app, async () => {
      await ctx.proxy.removeRoute(app);
      for (const u of await ctx.runtime.list(app)) await ctx.runtime.remove(u);
      await ctx.runtime.removeAppNetwork(app);
      sitesOf(ctx).remove(app);
      if (opts.purge) await dropReplacedDatabases(ctx, app); // before the roles that own them
      if (opts.purge) await dropAppData(ctx, app);
      // an app's own Redis goes with it; its data only with --purge (a re-created app finds it again)
      if (grantsOf(ctx, app).redis?.dedicated) await ctx.runtime.services.dedicatedRedis.remove(app, { data: !!opts.purge });
      ctx.store.deleteApp(app);
      ctx.proxy.persist();
    });
  } finally {
    ctx.locks.release(app, DELETE_LOCK_ID);
  }
  ctx.store.audit({ actor, action: 'apps.delete', app, result: 'succeeded', detail: { purge: !!opts.purge, final_dump: finalDumpPath } });
  return { app, deleted: true, purged: !!opts.purge, final_dump: finalDumpPath };
}
