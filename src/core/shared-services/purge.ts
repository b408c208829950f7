// Removing an app's data for good (`berth apps delete NAME --purge`): first a final dump of its
// database, proven written, and only then the database, roles, Redis keys and bucket go.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.js';
import { demux } from '../../runtime/docker/engine-api.js';
import { LABEL, namesFor } from '../../runtime/docker/specs.js';
import { POSTGRES_IMAGE } from '../../runtime/docker/service-images.js';
import type { PgGrant } from '../../provisioning/model.js';
import { runServicesJob } from '../../provisioning/run-worker.js';
import type { WorkerJob } from '../../provisioning/worker.js';
import type { Ctx } from '../context.js';
import { adminJob, grantsOf, locateServices } from './services.js';

const DUMP_TIMEOUT_MS = 30 * 60_000;

/** pg_dump (custom format) of the app's database into <root>/backups/APP/, from a one-off container. */
export async function finalDump(ctx: Ctx, app: string, g: PgGrant): Promise<string> {
  await locateServices(ctx);
  const admin = adminJob(ctx, 'postgres').postgres!.admin;
  const dir = join(ctx.paths.root, 'backups', app);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = `final-${new Date().toISOString().replace(/[:.]/g, '-')}.dump`;
  const n = namesFor(ctx.settings.instance);
  const name = `${n.instance}-${app}-final-dump`;
  const api = ctx.engine;
  await api.buffer('DELETE', `/containers/${name}`, `remove ${name}`, { query: { force: true } }).catch(() => undefined);
  const { Id } = await api.json<{ Id: string }>('POST', '/containers/create', `create ${name}`, {
    query: { name },
    body: {
      Image: POSTGRES_IMAGE,
      Cmd: ['pg_dump', '-h', admin.host, '-p', String(admin.port), '-U', admin.user, '-Fc', '-f', `/backup/${file}`, g.db],
      Env: [`PGPASSWORD=${admin.password}`],
      Labels: { [LABEL.instance]: n.instance, [LABEL.role]: 'one-off' },
      HostConfig: { Binds: [`${dir}:/backup`], NetworkMode: n.network },
    },
  });
  try {
    await api.buffer('POST', `/containers/${Id}/start`, `start ${name}`);
    const r = await api.json<{ StatusCode: number }>('POST', `/containers/${Id}/wait`, `wait ${name}`, { timeoutMs: DUMP_TIMEOUT_MS });
    if (r.StatusCode !== 0) {
      const logs = demux(await api.buffer('GET', `/containers/${Id}/logs`, `logs ${name}`, { query: { stdout: true, stderr: true, tail: 20 } }));
      throw new BerthError('command_failed', `the final dump of ${app} failed (pg_dump exited ${r.StatusCode}): ${logs.trim()}`, 'nothing was deleted');
    }
  } finally {
    await api.buffer('DELETE', `/containers/${Id}`, `remove ${name}`, { query: { force: true } }).catch(() => undefined);
  }
  const path = join(dir, file);
  if (!(statSync(path, { throwIfNoEntry: false })?.size)) throw new BerthError('command_failed', `the final dump ${path} is empty`, 'nothing was deleted');
  return path;
}

/** Drops everything the app was given in the shared services. */
export async function dropAppData(ctx: Ctx, app: string): Promise<void> {
  const g = grantsOf(ctx, app);
  await locateServices(ctx);
  const job: WorkerJob = {};
  if (g.postgres) job.postgres = { ...adminJob(ctx, 'postgres').postgres!, grant: g.postgres, drop: true };
  if (g.redis) job.redis = { ...adminJob(ctx, 'redis').redis!, grant: g.redis, drop: true };
  if (g.s3) job.s3 = { ...adminJob(ctx, 's3').s3!, grant: g.s3, drop: true };
  const r = await runServicesJob(job);
  const errs = Object.entries(r).filter(([, v]) => !v.ok).map(([k, v]) => `${k}: ${(v as { error: string }).error}`);
  if (errs.length) throw new BerthError('unavailable', `purging ${app}'s data failed: ${errs.join('; ')}`, `run the same command again: berth apps delete ${app} --purge --yes`);
}
