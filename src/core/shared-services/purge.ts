// Removing an app's data for good (`berth apps delete NAME --purge`): first a final dump of its
// database, proven written, and only then the database, roles, Redis keys and bucket go.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.js';
import { TASK_OUTPUT_DIR, TASK_SECRETS_DIR } from '../../runtime/types.js';
import type { PgGrant } from '../../provisioning/model.js';
import type { WorkerJob } from '../../provisioning/worker.js';
import type { Ctx } from '../context.js';
import { adminJob, grantsOf, locateServices } from './services.js';

const DUMP_TIMEOUT_MS = 30 * 60_000;

/** A libpq password file line (pure): `:` and `\` in a field are escaped with `\`. */
export const pgpassLine = (f: { host: string; port: number; db: string; user: string; password: string }) =>
  [f.host, String(f.port), f.db, f.user, f.password].map((x) => x.replace(/[\\:]/g, (c) => `\\${c}`)).join(':') + '\n';

/** pg_dump (custom format) of the app's database into <root>/backups/APP/, as a one-off task
 *  in PostgreSQL's image. The administrator's password reaches it in a 0600 password file,
 *  never in its env (docker inspect shows a container's env to anyone who can ask). */
export async function finalDump(ctx: Ctx, app: string, g: PgGrant): Promise<string> {
  await locateServices(ctx);
  const admin = adminJob(ctx, 'postgres').postgres!.admin;
  const dir = join(ctx.paths.root, 'backups', app);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = `final-${new Date().toISOString().replace(/[:.]/g, '-')}.dump`;
  const r = await ctx.runtime.services.task('postgres', {
    name: `${app}-final-dump`,
    cmd: ['pg_dump', '-h', admin.host, '-p', String(admin.port), '-U', admin.user, '-w', '-Fc', '-f', `${TASK_OUTPUT_DIR}/${file}`, g.db],
    env: { PGPASSFILE: `${TASK_SECRETS_DIR}/pgpass` },
    secretFiles: { pgpass: pgpassLine({ host: admin.host, port: admin.port, db: g.db, user: admin.user, password: admin.password }) },
    outputDir: dir,
  }, { timeoutMs: DUMP_TIMEOUT_MS });
  if (r.exitCode !== 0) {
    throw new BerthError('command_failed', `the final dump of ${app} failed (pg_dump exited ${r.exitCode}): ${r.output.trim()}`, 'nothing was deleted');
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
  if (g.redis && !g.redis.dedicated) job.redis = { ...adminJob(ctx, 'redis').redis!, grant: g.redis, drop: true }; // an own Redis goes whole
  if (g.s3) job.s3 = { ...adminJob(ctx, 's3').s3!, grant: g.s3, drop: true };
  const r = await ctx.jobs(job);
  const errs = Object.entries(r).filter(([, v]) => !v.ok).map(([k, v]) => `${k}: ${(v as { error: string }).error}`);
  if (errs.length) {
    throw new BerthError('unavailable', `purging ${app}'s data failed: ${errs.join('; ')}`,
      `run the same command again: berth apps delete ${app} --purge --yes`);
  }
}
