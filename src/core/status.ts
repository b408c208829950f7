// A truthful picture of the platform: engine, proxy, apps and what is running now.
import { asBerthError } from '../lib/errors.js';
import { listApps } from './apps/apps.js';
import type { Ctx } from './context.js';
import { platformBackupStatus } from './backups/status.js';

export async function platformStatus(ctx: Ctx) {
  const docker = await ctx.runtime.ping().then((v) => ({ ok: true, engine: v.engine }), (e) => ({ ok: false, error: asBerthError(e).message }));
  const proxy = await ctx.proxy.status();
  const apps = docker.ok ? await listApps(ctx) : [];
  return {
    daemon: { pid: process.pid, boot: ctx.boot, uptime_s: Math.round(process.uptime()), ...memory() },
    docker, proxy, apps, backups: platformBackupStatus(ctx),
    deploys: ctx.store.runningDeploys().map((d) => ({ id: d.id, app: d.app, kind: d.kind, step: d.step, started_at: d.started_at, actor: d.actor })),
  };
}

const mb = (n: number) => Math.round(n / 1e5) / 10;

function memory() {
  const m = process.memoryUsage();
  return { rss_mb: mb(m.rss), heap_used_mb: mb(m.heapUsed), heap_total_mb: mb(m.heapTotal), external_mb: mb(m.external) };
}
