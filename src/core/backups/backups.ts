// Logical backups of an app's database (berth backup create/list/verify/delete): pg_dump's custom
// format piped straight into age inside berth/pg-tools (pg-tools.sh), so the dump is never on
// disk unencrypted and berth's own memory stays flat whatever the size; the file is renamed into
// place only once whole, hashed, and recorded. A verification restores it into a scratch
// database no app may connect to, checks it and counts its rows (plan.ts says what it found).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.js';
import type { BackupRow, BackupTrigger } from '../../state/backups.js';
import type { Ctx } from '../context.js';
import { pgpassLine } from '../shared-services/purge.js';
import { adminJob, grantsOf, locateServices } from '../shared-services/services.js';
import { TASK_SECRETS_DIR } from '../../runtime/types.js';
import { mustBackupKey } from './key.js';
import { copyOffsite, deleteOffsite, fetchOffsite } from './offsite.js';
import { backupFileName, type BackupPolicy, DEFAULT_POLICY, SCRATCH_PREFIX, verdictOf, type Verdict } from './plan.js';

const DUMP_TIMEOUT_MS = 6 * 3600_000;
/** A verification's whole output: two lines per table (its counts), whatever the schema. */
const VERIFY_OUTPUT_LINES = 1_000_000;

export const backupDir = (ctx: Ctx, app: string) => join(ctx.paths.root, 'backups', app);

/** Where a dump is taken from instead of the shared server: a scratch server of a point-in-time
 *  restore, on a network of its own (the administrator's login is the same). */
export interface DumpSource { host: string; port: number; network: string }

/** How a pg-tools task reaches the shared PostgreSQL (or `at`) as its administrator: the password
 *  in a 0600 file (a container's env is shown by docker inspect), for any database. */
export async function pgAccess(ctx: Ctx, at?: DumpSource): Promise<{ env: Record<string, string>; secretFiles: Record<string, string> }> {
  await locateServices(ctx);
  const admin = { ...adminJob(ctx, 'postgres').postgres!.admin, ...(at ? { host: at.host, port: at.port } : {}) };
  return {
    env: { PGHOST: admin.host, PGPORT: String(admin.port), PGUSER: admin.user, PGPASSFILE: `${TASK_SECRETS_DIR}/pgpass` },
    secretFiles: { pgpass: pgpassLine({ host: admin.host, port: admin.port, db: '*', user: admin.user, password: admin.password }) },
  };
}

/** One backup of an app at a time: a second would share the first's task container. */
export async function alone<T>(ctx: Ctx, app: string, what: string, fn: () => Promise<T>): Promise<T> {
  if (ctx.backingUp.has(app)) throw new BerthError('conflict', `a backup task of ${app} is going on`, `wait for it, then ${what} again`);
  ctx.backingUp.add(app);
  try { return await fn(); } finally { ctx.backingUp.delete(app); }
}

/** `from`: dump database `db` of a scratch server instead (a point-in-time restore's). */
export async function createBackup(ctx: Ctx, app: string, o: { actor: string; trigger: BackupTrigger; from?: DumpSource & { db: string } })
  : Promise<BackupRow & { copies: Awaited<ReturnType<typeof copyOffsite>> }> {
  const db = o.from?.db ?? grantsOf(ctx, app).postgres?.db;
  if (!db) throw new BerthError('conflict', `${app} has no database to back up`, 'apps created with --no-db have none');
  const key = mustBackupKey(ctx.paths);
  return alone(ctx, app, 'create a backup', async () => {
    const dir = backupDir(ctx, app);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = backupFileName(new Date(), randomBytes(3).toString('hex'));
    const partial = join(dir, `${file}.partial`);
    const t0 = Date.now();
    try {
      const pg = await pgAccess(ctx, o.from);
      const r = await ctx.runtime.services.task('pg-tools', {
        name: `${app}-backup`, cmd: ['dump'], env: { ...pg.env, DB: db, RECIPIENT: key.recipient, FILE: `${file}.partial` },
        secretFiles: pg.secretFiles, outputDir: dir, ...(o.from ? { network: o.from.network } : {}),
      }, { timeoutMs: DUMP_TIMEOUT_MS });
      if (r.exitCode !== 0 || !existsSync(partial)) {
        throw new BerthError('command_failed', `backing up ${app} failed (exit ${r.exitCode}): ${r.output.trim().slice(-500)}`,
          'no backup was recorded; the earlier ones are untouched');
      }
      const kind = o.from ? 'pitr' : 'logical';
      const row = await recordBackupFile(ctx, app, file, { kind, recipient: key.recipient, t0, trigger: o.trigger, actor: o.actor });
      ctx.store.audit({ actor: o.actor, action: 'backup.create', app, result: 'succeeded', detail: { id: row.id, file, size: row.size } });
      return { ...row, copies: await copyOffsite(ctx, row) };
    } catch (e) {
      rmSync(partial, { force: true });
      ctx.store.audit({ actor: o.actor, action: 'backup.create', app, result: 'failed', detail: { error: (e as Error).message } });
      throw e;
    }
  });
}

/** `<file>.partial`, written whole: hashed, renamed into place, recorded. */
export async function recordBackupFile(ctx: Ctx, app: string, file: string,
  o: Pick<BackupRow, 'kind' | 'recipient' | 'trigger' | 'actor'> & { t0: number }): Promise<BackupRow> {
  const partial = join(backupDir(ctx, app), `${file}.partial`);
  const { size, sha256 } = { size: statSync(partial).size, sha256: await sha256Of(partial) };
  renameSync(partial, join(backupDir(ctx, app), file));
  return ctx.store.backups.insert({ app, kind: o.kind, file, size, sha256, recipient: o.recipient, duration_ms: Date.now() - o.t0,
    trigger: o.trigger, actor: o.actor });
}

/** An app's backups of its database as it is (logical), newest first: the ones "latest", schedules,
 *  health and retention go by. A point-in-time dump (kind pitr) holds older data: it is listed and
 *  restorable by id, and kept until deleted. */
export const currentBackups = (ctx: Ctx, app: string): BackupRow[] => ctx.store.backups.of(app).filter((b) => b.kind !== 'pitr');

/** An app's backups, newest first, each with whether its file is still there. */
export function listBackups(ctx: Ctx, app: string): (BackupRow & { stored: string[] })[] {
  return ctx.store.backups.of(app).map((b) => ({
    ...b, stored: [...(existsSync(join(backupDir(ctx, app), b.file)) ? ['local'] : []), ...ctx.store.backups.copiesOf(b.id).map((c) => c.target)],
  }));
}

export function backupOf(ctx: Ctx, app: string, id?: number): BackupRow {
  const b = id === undefined ? currentBackups(ctx, app)[0] : ctx.store.backups.byId(id);
  if (!b || b.app !== app) {
    throw new BerthError('not_found', id === undefined ? `${app} has no backup yet` : `${app} has no backup #${id}`,
      id === undefined ? `make one: berth backup create ${app}` : `list them: berth backup list ${app}`);
  }
  return b;
}

/** Restores the backup (the latest when no id) into a scratch database, checks it, and records what was found. */
export async function verifyBackup(ctx: Ctx, app: string, o: { id?: number; actor: string }): Promise<{ backup: number } & Verdict> {
  const b = backupOf(ctx, app, o.id);
  const v = await alone(ctx, app, 'verify', async (): Promise<Verdict> => (await checkFile(ctx, b))
    ?? runRestoreTask(ctx, app, b, { cmd: 'verify', env: { SCRATCH: `${SCRATCH_PREFIX}${randomBytes(6).toString('hex')}` } }));
  ctx.store.backups.verified(b.id, v.state, v.detail);
  ctx.store.audit({ actor: o.actor, action: 'backup.verify', app, result: v.state, detail: { id: b.id, detail: v.detail } });
  return { backup: b.id, ...v };
}

/** The file against what was recorded when it was written: null when it is that file. */
export async function checkFile(ctx: Ctx, b: BackupRow): Promise<Verdict | null> {
  const path = join(backupDir(ctx, b.app), b.file);
  // gone here (a lost disk, a wiped data root): brought back from a target that holds a copy
  if (!existsSync(path)) {
    mkdirSync(backupDir(ctx, b.app), { recursive: true, mode: 0o700 });
    const from = await fetchOffsite(ctx, b);
    if (!from) return { state: 'damaged', detail: `the file ${path} is gone, and no target holds a copy`, tables: 0, rows: 0 };
  }
  const sha256 = await sha256Of(path);
  if (sha256 === b.sha256) return null;
  return { state: 'damaged', detail: `the file is not what was written: ${statSync(path).size} bytes with sha256 ${sha256.slice(0, 12)}…, `
    + `written as ${b.size} bytes with ${b.sha256.slice(0, 12)}… (truncated or changed)`, tables: 0, rows: 0 };
}

/** pg-tools' verify (into a scratch database) or restore (into the app's new one), and what it found. */
export async function runRestoreTask(ctx: Ctx, app: string, b: BackupRow, t: { cmd: 'verify' | 'restore'; env: Record<string, string> }): Promise<Verdict> {
  const pg = await pgAccess(ctx);
  const r = await ctx.runtime.services.task('pg-tools', {
    name: `${app}-${t.cmd}`, cmd: [t.cmd], env: { ...pg.env, ...t.env, FILE: b.file },
    secretFiles: { ...pg.secretFiles, 'backup.key': readFileSync(mustBackupKey(ctx.paths).path, 'utf8') }, outputDir: backupDir(ctx, app),
  }, { timeoutMs: DUMP_TIMEOUT_MS, outputLines: VERIFY_OUTPUT_LINES });
  return verdictOf(r.output, r.exitCode);
}

/** Deletes a backup here and on its targets. A target that refuses keeps its copy and the record
 *  stays (nothing is forgotten that is still stored), listed as stored there alone: the next
 *  delete or prune tries it again. The local file goes whatever: a target that is down must not
 *  stall retention and fill this disk. */
export async function deleteBackup(ctx: Ctx, app: string, o: { id: number; actor: string })
  : Promise<{ deleted: number; file: string; kept_on: { target: string; error: string }[] }> {
  const b = backupOf(ctx, app, o.id);
  const kept = await deleteOffsite(ctx, b);
  rmSync(join(backupDir(ctx, app), b.file), { force: true });
  if (!kept.length) ctx.store.backups.remove(b.id);
  ctx.store.audit({ actor: o.actor, action: 'backup.delete', app, result: kept.length ? 'kept on a target' : 'deleted',
    detail: { id: b.id, file: b.file, ...(kept.length ? { kept_on: kept } : {}) } });
  return { deleted: b.id, file: b.file, kept_on: kept };
}

/** Drops the scratch databases a verification killed mid-way left behind (its trap never ran):
 *  at daemon start, when no verification runs. */
export async function sweepScratch(ctx: Ctx): Promise<string[]> {
  const pg = await pgAccess(ctx);
  mkdirSync(join(ctx.paths.root, 'backups'), { recursive: true, mode: 0o700 });
  const r = await ctx.runtime.services.task('pg-tools', { name: 'backup-sweep', cmd: ['sweep'], env: pg.env, secretFiles: pg.secretFiles,
    outputDir: join(ctx.paths.root, 'backups') }, { timeoutMs: 120_000 });
  if (r.exitCode !== 0) throw new BerthError('command_failed', `sweeping scratch databases failed: ${r.output.trim().slice(-300)}`);
  return [...r.output.matchAll(/^berth: dropped (\S+)$/gm)].map((m) => m[1]!);
}

/** The file's sha256, read as a stream (memory flat whatever its size). */
async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The app's backup policy: what it set over the defaults. */
export function policyOf(ctx: Ctx, app: string): BackupPolicy {
  const raw = ctx.store.backups.policy(app);
  return raw ? { ...DEFAULT_POLICY, ...(JSON.parse(raw) as Partial<BackupPolicy>) } : DEFAULT_POLICY;
}
