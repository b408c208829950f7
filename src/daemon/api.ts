// The daemon's HTTP API (served on a root-only unix socket). Handlers are thin: parse the
// request, call the core, map errors to statuses. Long operations stream NDJSON events.
import { BerthError } from '../lib/errors.js';
import * as v from '../lib/validate.js';
import { createApp, deleteApp, listApps, showApp } from '../core/apps/apps.js';
import { changeConfig, listConfig } from '../core/config/config.js';
import { changeDomains } from '../core/apps/domains.js';
import { changeLimits } from '../core/apps/limits.js';
import { updateApp } from '../core/apps/update.js';
import type { Ctx } from '../core/context.js';
import { abort, deploy, type DeployEvent, relName, rollback } from '../core/deploy/engine.js';
import { reconcile } from '../core/deploy/recover.js';
import { scale } from '../core/deploy/scale.js';
import { describeProcesses } from '../core/deploy/processes.js';
import { formationOf } from '../core/deploy/execute.js';
import { platformStatus } from '../core/status.js';
import { runAttached, runCommand } from '../core/run/run.js';
import { cronHistory, cronJobs } from '../core/cron/history.js';
import { registryLogin } from '../core/registry.js';
import { ensureServices } from '../core/shared-services/services.js';
import { serviceRecord } from '../core/shared-services/records.js';
import { rotate } from '../core/shared-services/rotate.js';
import { setExternal } from '../core/shared-services/external.js';
import { exposeS3 } from '../core/shared-services/public.js';
import { moveObjectStore } from '../core/shared-services/move.js';
import { removeOldStore } from '../core/shared-services/remove-old.js';
import { appConnections, servicesStatus } from '../core/shared-services/status.js';
import { API_VERSION } from './api-version.js';
import {
  AppCreateBody, AppUpdateBody, ConfigBody, DeployBody, DomainsBody, ExposeBody, LimitsBody, MoveBody, parseBody, RegistryBody, RollbackBody,
  CronJobName, RotateBody, RunBody, AttachedRunBody, ScaleBody,
  ServiceName, ServiceSetBody,
} from './bodies.js';
import { buildId } from './build.js';
import { json, type Reply, Router } from './http.js';
import { terminalBridge } from './terminal.js';
import { backupRoutes } from './backup-routes.js';
import { actorOf, mustApp } from './handlers.js';


const ndjson = (run: (emit: (e: DeployEvent) => void) => Promise<unknown>): Reply => ({ kind: 'ndjson', run });

export function buildApi(ctx: Ctx): Router {
  const api = new Router((e, raw) => ctx.log.error({ err: e.message, stack: (raw as Error)?.stack }, 'request failed'));
  const P = `/${API_VERSION}`;

  const build = buildId();
  api.on('GET', `${P}/health`, () => ({ ok: true, boot: ctx.boot, pid: process.pid, build }));
  api.on('GET', `${P}/status`, () => platformStatus(ctx));

  backupRoutes(api, ctx, P);
  api.on('GET', `${P}/apps`, () => listApps(ctx));
  api.on('POST', `${P}/apps`, async (r) => {
    const b = parseBody(AppCreateBody, await r.json());
    const res = await createApp(ctx, {
      name: b.name, domains: b.domains, port: b.port, healthPath: b.health_path, services: b.services, pgConnections: b.pg_connections, limits: b.limits,
      redis: b.redis,
    }, actorOf(r));
    return json(res.created ? 201 : 200, res);
  });
  api.on('GET', `${P}/apps/:name`, (r) => showApp(ctx, r.params.name!));
  api.on('PATCH', `${P}/apps/:name`, async (r) => {
    const b = parseBody(AppUpdateBody, await r.json());
    return updateApp(ctx, mustApp(ctx, r.params.name!), { pgConnections: b.pg_connections }, actorOf(r));
  });
  api.on('DELETE', `${P}/apps/:name`, (r) => deleteApp(ctx, r.params.name!, actorOf(r), { purge: r.query.get('purge') === '1' }));

  api.on('GET', `${P}/apps/:name/domains`, (r) => ({ app: r.params.name, domains: ctx.store.domainsOf(mustApp(ctx, r.params.name!)) }));
  api.on('PATCH', `${P}/apps/:name/domains`, async (r) => {
    const b = parseBody(DomainsBody, await r.json());
    return changeDomains(ctx, r.params.name!, b, actorOf(r));
  });

  api.on('GET', `${P}/apps/:name/config`, (r) => listConfig(ctx, r.params.name!, r.query.get('reveal') === '1'));
  api.on('PATCH', `${P}/apps/:name/config`, async (r) => {
    const b = parseBody(ConfigBody, await r.json()); // a 400 before the stream starts
    const name = mustApp(ctx, r.params.name!);
    return ndjson((emit) => changeConfig(ctx, name, { set: b.set, unset: b.unset, deploy: b.deploy, lockTimeoutMs: b.lock_timeout, actor: actorOf(r) }, emit));
  });

  api.on('PATCH', `${P}/apps/:name/limits`, async (r) => {
    const b = parseBody(LimitsBody, await r.json());
    const name = mustApp(ctx, r.params.name!);
    return ndjson((emit) => changeLimits(ctx, name, { ...b, lockTimeoutMs: b.lock_timeout, actor: actorOf(r) }, emit));
  });

  api.on('POST', `${P}/apps/:name/deploys`, async (r) => {
    const b = parseBody(DeployBody, await r.json());
    const name = mustApp(ctx, r.params.name!);
    // loaded on the first deploy that brings a description: the daemon at rest does without it
    const spec = b.spec ? (await import('../core/spec/from-body.js')).specFromBody(b.spec) : undefined;
    return ndjson((emit) => deploy(ctx, {
      spec, specDir: b.spec_dir,
      app: name, kind: 'deploy', image: b.image, build: b.build, port: b.port, healthPath: b.health_path,
      releaseCommand: b.release_command, timeoutMs: b.timeout, releaseTimeoutMs: b.release_timeout,
      processes: b.processes && Object.fromEntries(Object.entries(b.processes).map(([p, x]) => [p, x && { cmd: x.cmd, stop_grace_ms: x.stop_grace }])),
      lockTimeoutMs: b.lock_timeout, dryRun: b.dry_run, actor: actorOf(r),
    }, emit));
  });
  api.on('DELETE', `${P}/apps/:name/deploys/current`, (r) => abort(ctx, r.params.name!, actorOf(r)));
  api.on('POST', `${P}/apps/:name/rollback`, async (r) => {
    const b = parseBody(RollbackBody, await r.json());
    const name = mustApp(ctx, r.params.name!);
    return ndjson((emit) => rollback(ctx, { app: name, to: b.to, actor: actorOf(r), lockTimeoutMs: b.lock_timeout, timeoutMs: b.timeout }, emit));
  });

  api.on('POST', `${P}/apps/:name/runs`, async (r) => {
    const b = parseBody(RunBody, await r.json());
    const name = mustApp(ctx, r.params.name!);
    // the client leaving (Ctrl-C) stops the command: its container is removed
    return { kind: 'ndjson', run: (emit, left) => runCommand(ctx, { app: name, process: b.process, cmd: b.cmd, timeoutMs: b.timeout, actor: actorOf(r) },
      emit, left) } satisfies Reply;
  });

  api.on('POST', `${P}/apps/:name/runs/attached`, async (r) => {
    const b = parseBody(AttachedRunBody, await r.json());
    const name = mustApp(ctx, r.params.name!);
    return { kind: 'upgrade', run: async (peer, left) => {
      const bridge = terminalBridge(peer, b.tty, ctx.log);
      const result = await runAttached(ctx, { app: name, process: b.process, cmd: b.cmd, timeoutMs: b.timeout, actor: actorOf(r),
        stdin: b.stdin, tty: b.tty, rows: b.rows, cols: b.cols }, bridge.attached, left);
      await bridge.drained();
      return result;
    } } satisfies Reply;
  });

  api.on('GET', `${P}/apps/:name/cron`, (r) => ({ app: r.params.name, jobs: cronJobs(ctx, mustApp(ctx, r.params.name!)) }));
  api.on('GET', `${P}/apps/:name/cron/:job/runs`, (r) => {
    const job = parseBody(CronJobName, r.params.job, 'job');
    return cronHistory(ctx, mustApp(ctx, r.params.name!), job, Math.min(Number(r.query.get('limit') ?? 20) || 20, 100));
  });
  api.on('POST', `${P}/apps/:name/cron/:job/runs`, (r) => {
    const job = parseBody(CronJobName, r.params.job, 'job');
    const name = mustApp(ctx, r.params.name!);
    if (!ctx.cron) throw new BerthError('unavailable', 'cron is not running in this daemon yet', 'try again in a moment');
    const run = ctx.cron.runNow(name, job, actorOf(r));
    ctx.store.audit({ actor: actorOf(r), action: 'cron.run', app: name, result: run.state, detail: { job, run: run.id } });
    return json(run.state === 'running' ? 202 : 200, run); // skipped: a run of it is going on
  });

  api.on('POST', `${P}/apps/:name/scale`, async (r) => {
    const b = parseBody(ScaleBody, await r.json());
    return scale(ctx, { app: mustApp(ctx, r.params.name!), processes: b.processes, actor: actorOf(r), lockTimeoutMs: b.lock_timeout });
  });

  api.on('GET', `${P}/apps/:name/releases`, (r) => ctx.store.releasesOf(mustApp(ctx, r.params.name!)).map((x) => ({
    release: relName(x), processes: describeProcesses(x, formationOf(ctx, x.app)), image: x.image, image_id: x.image_id, digest: x.digest,
    port: x.port, state: x.state,
    created_at: x.created_at, actor: x.actor, note: x.note, warm_until: x.warm_until,
  })));
  api.on('GET', `${P}/apps/:name/deploys`, (r) => ctx.store.deploysOf(mustApp(ctx, r.params.name!)).map((d) => ({ ...d, steps: ctx.store.stepsOf(d.id) })));

  /** Logs of one container, as text, or followed as a stream (?follow=1). */
  const logsReply = async (r: { query: URLSearchParams }, unit: { id: string; name: string }): Promise<Reply> => {
    const tail = Math.min(Number(r.query.get('tail') ?? 100) || 100, 10_000);
    if (r.query.get('follow') !== '1') return { kind: 'text', body: await ctx.runtime.logs(unit, tail) };
    return { kind: 'stream', run: (write, signal) => ctx.runtime.followLogs(unit, tail, write, signal) };
  };
  api.on('GET', `${P}/apps/:name/logs`, async (r) => {
    const name = mustApp(ctx, r.params.name!);
    const process = r.query.get('process');
    const units = (await ctx.runtime.list(name)).filter((u) => !process || u.process === process);
    const live = ctx.store.getApp(name)!.live_release;
    const liveName = live ? relName(ctx.store.getRelease(live)!) : null;
    // the serving web process; for another process, the live release's first running copy
    const unit = units.find((u) => u.serving) ?? units.find((u) => u.release === liveName && u.running) ?? units[0];
    if (!unit) throw new BerthError('not_found', `${name} has no running release`, `deploy it with: berth deploy ${name} --image REF`);
    return logsReply(r, unit);
  });
  api.on('GET', `${P}/services/:service/logs`, async (r) => {
    const service = parseBody(ServiceName, r.params.service, 'service');
    const rec = serviceRecord(ctx, service);
    if (rec.mode === 'external') throw new BerthError('invalid', `${service} is external: berth runs no container for it`, 'see its logs where it runs');
    return logsReply(r, ctx.runtime.services.logsRef(service, rec.slot));
  });

  api.on('GET', `${P}/audit`, (r) => {
    const app = r.query.get('app');
    return ctx.store.auditLog(app ? v.appName(app, 'app') : undefined, Math.min(Number(r.query.get('limit') ?? 100) || 100, 1000));
  });

  api.on('POST', `${P}/registries`, async (r) => {
    const b = parseBody(RegistryBody, await r.json());
    return registryLogin(ctx, b, actorOf(r));
  });

  api.on('POST', `${P}/reconcile`, () => reconcile(ctx));

  api.on('POST', `${P}/apps/:name/rotate`, async (r) => {
    const b = parseBody(RotateBody, await r.json());
    const name = mustApp(ctx, r.params.name!);
    return ndjson((emit) => rotate(ctx, { app: name, services: b.services, actor: actorOf(r), lockTimeoutMs: b.lock_timeout }, emit));
  });
  api.on('POST', `${P}/services/ensure`, () => ndjson((emit) => ensureServices(ctx, (line) => emit({ type: 'progress', line }))));
  api.on('GET', `${P}/services`, () => servicesStatus(ctx));
  api.on('PUT', `${P}/services/:service`, async (r) => {
    const service = parseBody(ServiceName, r.params.service, 'service');
    const b = parseBody(ServiceSetBody, await r.json());
    return setExternal(ctx, service, b, actorOf(r));
  });
  api.on('PUT', `${P}/services/s3/public`, async (r) => {
    const b = parseBody(ExposeBody, await r.json());
    return exposeS3(ctx, b.domain, actorOf(r));
  });
  api.on('POST', `${P}/services/s3/move`, async (r) => {
    const b = parseBody(MoveBody, await r.json());
    return ndjson((emit) => moveObjectStore(ctx, { dryRun: b.dry_run, actor: actorOf(r) }, emit));
  });
  api.on('DELETE', `${P}/services/s3/old`, (r) => removeOldStore(ctx, actorOf(r)));
  api.on('GET', `${P}/apps/:name/services`, (r) => appConnections(ctx, mustApp(ctx, r.params.name!)));
  return api;
}
