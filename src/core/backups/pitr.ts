// Point-in-time recovery of one app (`berth backup restore NAME --at TIME`, `berth backup pitr`).
// The bundled PostgreSQL archives its WAL continuously (the runtime's archive: pgBackRest) and
// takes base backups on a schedule. A restore to an instant brings the whole cluster back as it
// was then in a scratch server no app can reach, dumps the app's database from it into an
// encrypted backup like any other, and goes on with the restore that never destroys
// (restore.ts): one app goes back in time, the others are untouched. With an external
// PostgreSQL the archive is its provider's job; logical backups work there all the same.
import { randomBytes } from 'node:crypto';
import { asBerthError, BerthError } from '../../lib/errors.js';
import type { Ctx } from '../context.js';
import type { Emit } from '../deploy/execute.js';
import { serviceRecord } from '../shared-services/records.js';
import { grantsOf } from '../shared-services/services.js';
import { createBackup } from './backups.js';
import { baseTypeDue, databaseAt, outsideWindow, type PitrWindow, windowOf } from './pitr-plan.js';
import { restoreBackup, type RestoreResult } from './restore.js';

const BASE_TIMEOUT_MS = 6 * 3600_000;
const SHORT_MS = 120_000;
const ARCHIVER_SQL = 'SELECT coalesce(extract(epoch FROM last_archived_time)::bigint::text, \'\') || \'|\' '
  + '|| coalesce(extract(epoch FROM last_failed_time)::bigint::text, \'\') || \'|\' || coalesce(last_failed_wal, \'\') FROM pg_stat_archiver';

/** Whether the platform archives its PostgreSQL: the bundled one does, an external one does not. */
export function archives(ctx: Ctx): boolean {
  return ctx.settings.services.includes('postgres') && serviceRecord(ctx, 'postgres').mode === 'container';
}

/** The bundled PostgreSQL's archive cipher pass, made once and kept in its (encrypted) record. */
export function archiveCipher(ctx: Ctx): string {
  const rec = serviceRecord(ctx, 'postgres');
  if (rec.archiveCipher) return rec.archiveCipher;
  const archiveCipher = randomBytes(32).toString('base64url');
  ctx.store.setService('postgres', rec.mode, ctx.cipher.encryptJSON({ ...rec, archiveCipher }));
  return archiveCipher;
}

async function pgbackrest(ctx: Ctx, args: string[], timeoutMs = SHORT_MS): Promise<string> {
  const r = await ctx.runtime.services.archive.exec(['pgbackrest', ...args], { timeoutMs, password: serviceRecord(ctx, 'postgres').password });
  if (r.exitCode !== 0) {
    const said = r.output.split('\n').filter((l) => /ERROR|HINT/.test(l)).join(' / ') || r.output.trim().slice(-500);
    throw new BerthError('command_failed', `pgbackrest ${args[0]} failed (exit ${r.exitCode}): ${said}`, 'see: berth services logs postgres');
  }
  return r.output;
}

/** The archive's stanza, made once the server is up (berth up); 'ok' when it was there. */
export async function ensureStanza(ctx: Ctx): Promise<string> {
  const out = await pgbackrest(ctx, ['stanza-create']);
  return /already exists/.test(out) ? 'ok' : 'archive stanza created';
}

/** A base backup now: full, differential (changes since the last full) or as due. */
export async function baseBackup(ctx: Ctx, o: { type?: 'full' | 'diff'; actor: string }): Promise<PitrWindow> {
  if (!archives(ctx)) throw new BerthError('conflict', 'this platform\'s PostgreSQL is external: its point-in-time recovery is its provider\'s job');
  if (ctx.archiveBase) throw new BerthError('conflict', 'a base backup is going on', 'wait for it: berth backup pitr shows it once done');
  const run = takeBase(ctx, o);
  ctx.archiveBase = run;
  try { return await run; } finally { ctx.archiveBase = undefined; }
}

async function takeBase(ctx: Ctx, o: { type?: 'full' | 'diff'; actor: string }): Promise<PitrWindow> {
  const type = o.type ?? baseTypeDue((await pitrWindow(ctx)).base_backups, new Date());
  try {
    await pgbackrest(ctx, ['backup', `--type=${type}`], BASE_TIMEOUT_MS);
  } catch (e) {
    ctx.store.audit({ actor: o.actor, action: 'backup.base', app: null, result: 'failed', detail: { type, error: asBerthError(e).message } });
    throw e;
  }
  ctx.store.audit({ actor: o.actor, action: 'backup.base', app: null, result: 'succeeded', detail: { type } });
  return pitrWindow(ctx);
}

/** What can be recovered: from the end of the oldest base backup to now. */
export async function pitrWindow(ctx: Ctx): Promise<PitrWindow> {
  if (!archives(ctx)) {
    return { archiving: false, from: null, to: null, base_backups: [], last_archived_at: null, archive_failing: null,
      note: 'PostgreSQL is external: point-in-time recovery is its provider\'s job (RDS, a managed database); berth\'s logical backups work there' };
  }
  const info = await pgbackrest(ctx, ['info', '--output=json', '--log-level-console=warn']);
  const pw = serviceRecord(ctx, 'postgres').password;
  const a = await ctx.runtime.services.archive.exec(['psql', '-X', '-A', '-t', '-q', '-U', 'postgres', '-d', 'postgres', '-c', ARCHIVER_SQL],
    { timeoutMs: SHORT_MS, password: pw });
  if (a.exitCode !== 0) throw new BerthError('unavailable', `reading PostgreSQL's archiver status failed: ${a.output.trim().slice(-300)}`);
  return windowOf(info, a.output, new Date());
}

export interface PitrPlan { plan: string[]; at: string; db: string }

/** Restores one app's database as it was at `at`, through the restore that never destroys. */
export async function restoreAt(ctx: Ctx, app: string, at: Date, o: { dryRun?: boolean; actor: string }, emit: Emit)
  : Promise<RestoreResult | PitrPlan> {
  const g = grantsOf(ctx, app).postgres;
  if (!g) throw new BerthError('conflict', `${app} has no database to restore`, 'apps created with --no-db have none');
  const w = await pitrWindow(ctx);
  const why = outsideWindow(w, at);
  if (why) throw new BerthError('invalid', `cannot restore ${app} to ${at.toISOString()}: ${why}`, `see what can be: berth backup pitr`);
  const db = databaseAt(ctx.store.backups.restoresOf(app), g.db, at);
  const plan = [
    'archive the WAL written until now (pgbackrest check)',
    `restore the cluster as it was at ${at.toISOString()} into a scratch server on a network of its own (no app on it)`,
    `dump ${db} from it into an encrypted backup of ${app}, then remove the scratch server`,
    `restore that backup as berth backup restore does: a new database, checked, then a release; ${g.db} is kept`,
  ];
  if (o.dryRun) return { plan, at: at.toISOString(), db };
  emit({ type: 'progress', line: 'archiving the WAL written until now' });
  await pgbackrest(ctx, ['check']);
  emit({ type: 'progress', line: `restoring the archive at ${at.toISOString()} into a scratch server` });
  const b = await ctx.runtime.services.archive.atTime({ at, db }, async (s) => {
    emit({ type: 'progress', line: `dumping ${db} as it was at ${at.toISOString()}` });
    return createBackup(ctx, app, { actor: o.actor, trigger: 'manual', from: { ...s, db } });
  }, { timeoutMs: BASE_TIMEOUT_MS });
  ctx.store.audit({ actor: o.actor, action: 'backup.pitr', app, result: 'dumped', detail: { at: at.toISOString(), db, backup: b.id } });
  emit({ type: 'progress', line: `backup #${b.id} holds ${app}'s data as it was at ${at.toISOString()}` });
  return restoreBackup(ctx, app, { id: b.id, actor: o.actor }, emit) as Promise<RestoreResult>;
}
