// Point-in-time recovery of one app (`berth backup restore NAME --at TIME`, `berth backup pitr`).
// The bundled PostgreSQL archives its WAL continuously (the runtime's archive: pgBackRest) and
// takes base backups on a schedule. A restore to an instant brings the whole cluster back as it
// was then in a scratch server no app can reach, dumps the app's database from it into an
// encrypted backup like any other, and goes on with the restore that never destroys
// (restore.ts): one app goes back in time, the others are untouched. With an external
// PostgreSQL the archive is its provider's job; logical backups work there all the same.
import { randomBytes } from 'node:crypto';
import { statfsSync } from 'node:fs';
import { asBerthError, BerthError } from '../../lib/errors.js';
import { type Ctx, pauseIfHooked } from '../context.js';
import type { Emit } from '../deploy/execute.js';
import { serviceRecord } from '../shared-services/records.js';
import { grantsOf } from '../shared-services/services.js';
import { createBackup } from './backups.js';
import { copyTreeOffsite, treeCopies } from './offsite.js';
import { baseTypeDue, databaseAt, outsideWindow, type PgBackRestInfo, type PitrWindow, windowOf } from './pitr-plan.js';
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
  // info takes no lock: a stanza that is there (with or without a backup yet) is left alone, so that
  // a base backup going on (perhaps one a daemon before this one started) refuses nothing
  const info = (JSON.parse(await pgbackrest(ctx, ['info', '--output=json', '--log-level-console=warn'])) as PgBackRestInfo[])[0];
  const missing = !info || info.status?.code === 1 || info.status?.code === 3; // no stanza path, or no stanza data
  const made = missing ? await pgbackrest(ctx, ['stanza-create']) : '';
  const id = (await pitrWindow(ctx)).system_id;
  const rec = serviceRecord(ctx, 'postgres');
  // a new cluster (a recovery from logical backups): its own directory on the targets
  if (id && rec.archiveSystemId !== id) {
    ctx.store.setService('postgres', rec.mode, ctx.cipher.encryptJSON({ ...rec, archiveSystemId: id, archiveGeneration: undefined }));
  }
  return missing && !/already exists/.test(made) ? 'archive stanza created' : 'ok';
}

/** A base backup now: full, differential (changes since the last full) or as due. */
export async function baseBackup(ctx: Ctx, o: { type?: 'full' | 'diff'; actor: string }): Promise<PitrWindow> {
  if (!archives(ctx)) throw new BerthError('conflict', 'this platform\'s PostgreSQL is external: its point-in-time recovery is its provider\'s job');
  if (ctx.archiveBase) throw new BerthError('conflict', 'a base backup is going on', 'wait for it: berth backup pitr shows it once done');
  // its expiry could remove the backup set or WAL a restore to an instant is reading
  if (ctx.pitrRestoring) throw new BerthError('conflict', 'a restore to an instant is going on', 'take the base backup once it is done');
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
  await pushArchive(ctx);
  return pitrWindow(ctx);
}

/** The archive's place on a target, under its prefix (beside the apps' backups): one directory
 *  per cluster, so that a cluster made anew (a disaster recovery from logical backups) never
 *  writes over the archive of the one before. */
export const ARCHIVE_ON_TARGET = '_pitr';
export const archivePathFor = (systemId: string, generation?: string) => `${ARCHIVE_ON_TARGET}/${systemId}${generation ? `-${generation}` : ''}`;

/** The cluster's system id as the stanza knows it, kept in PostgreSQL's record (restore-host reads it there). */
async function archiveOnTarget(ctx: Ctx): Promise<string> {
  const rec = serviceRecord(ctx, 'postgres');
  if (rec.archiveSystemId) return archivePathFor(rec.archiveSystemId, rec.archiveGeneration);
  const id = (await pitrWindow(ctx)).system_id;
  if (!id) throw new BerthError('unavailable', 'the archive does not say which cluster it is of yet (no stanza)', 'run berth up');
  ctx.store.setService('postgres', rec.mode, ctx.cipher.encryptJSON({ ...serviceRecord(ctx, 'postgres'), archiveSystemId: id }));
  return archivePathFor(id);
}
const PUSH_EVERY_MS = 5 * 60_000;

/** Copies the WAL archive (already encrypted by pgBackRest) to every target; a failing target is
 *  recorded (berth backup targets) and the others go on. What pgBackRest expired (retention: two
 *  full backups and what they need) goes from the targets too, but only while the local
 *  repository is sound: a damaged or emptied one must never empty the off-site copy. */
export async function pushArchive(ctx: Ctx, o: { now?: boolean } = {}): Promise<{ target: string; ok: boolean; error?: string }[]> {
  if (!archives(ctx) || !ctx.store.backups.targets().length || ctx.pushingArchive) return [];
  ctx.pushingArchive = true;
  try {
    if (o.now) await pgbackrest(ctx, ['check']); // the WAL written until now archived first
    const prune = (await pitrWindow(ctx)).repo_sound;
    const out = await copyTreeOffsite(ctx, ctx.paths.archiveDir, await archiveOnTarget(ctx), { prune });
    for (const f of out.filter((x) => !x.ok)) ctx.log.error({ target: f.target, err: f.error }, 'copying the WAL archive to a target failed');
    return out;
  } finally {
    ctx.pushingArchive = false;
  }
}

/** The daemon's pass: the archive is looked at and goes off-site every 5 minutes (a lost disk loses at most that). */
export async function pushArchivePass(ctx: Ctx, now = Date.now()): Promise<void> {
  if (now - (ctx.archivePushedAt ?? 0) < PUSH_EVERY_MS || !archives(ctx)) return;
  ctx.archivePushedAt = now;
  await pitrWindow(ctx); // how the archive is, for berth status and the notification channel
  await pushArchive(ctx);
}

/** What can be recovered: from the end of the oldest base backup to now. */
export async function pitrWindow(ctx: Ctx): Promise<PitrWindow> {
  if (!archives(ctx)) {
    return { archiving: false, from: null, to: null, base_backups: [], repo_sound: false, last_archived_at: null, archive_failing: null,
      note: 'PostgreSQL is external: point-in-time recovery is its provider\'s job (RDS, a managed database); berth\'s logical backups work there' };
  }
  const info = await pgbackrest(ctx, ['info', '--output=json', '--log-level-console=warn']);
  const pw = serviceRecord(ctx, 'postgres').password;
  const a = await ctx.runtime.services.archive.exec(['psql', '-X', '-A', '-t', '-q', '-U', 'postgres', '-d', 'postgres', '-c', ARCHIVER_SQL],
    { timeoutMs: SHORT_MS, password: pw });
  if (a.exitCode !== 0) throw new BerthError('unavailable', `reading PostgreSQL's archiver status failed: ${a.output.trim().slice(-300)}`);
  const w = windowOf(info, a.output, new Date());
  ctx.archiveHealth = { lastBase: w.base_backups.at(-1)?.finished_at ?? null, failing: w.archive_failing }; // for berth status
  return { ...w, offsite: w.system_id ? treeCopies(ctx, archivePathFor(w.system_id, serviceRecord(ctx, 'postgres').archiveGeneration)) : [] };
}

/** A restore to an instant writes the cluster (or the app's database) to this disk: refused
 *  unless there is room for the whole cluster and a margin, so that the live server keeps its own. */
function enoughRoom(ctx: Ctx, w: PitrWindow): void {
  const st = statfsSync(ctx.paths.root);
  const free = st.bavail * st.bsize;
  const need = Math.ceil((w.cluster_bytes ?? 0) * 1.2) + 512 * 1024 * 1024;
  if (free < need) {
    throw new BerthError('unavailable', `a restore to an instant needs ${mb(need)} free under ${ctx.paths.root} (the cluster and a margin); ${mb(free)} are`,
      'free some space, or restore a logical backup instead: berth backup restore NAME [ID]');
  }
}
const mb = (n: number) => `${Math.round(n / 1048576)} MB`;

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
  // one at a time, never beside a base backup (whose expiry could take what this reads) or another backup task of the app
  if (ctx.pitrRestoring || ctx.archiveBase || ctx.backingUp.has(app)) {
    throw new BerthError('conflict', 'a restore to an instant, a base backup or a backup task of this app is going on', 'try again once it is done');
  }
  enoughRoom(ctx, w);
  ctx.pitrRestoring = true;
  let b: Awaited<ReturnType<typeof createBackup>>;
  try {
    emit({ type: 'progress', line: 'archiving the WAL written until now' });
    // a commit record now: recovery to a time stops at the first commit after it, which a quiet cluster may lack
    await ctx.runtime.services.archive.exec(['psql', '-X', '-q', '-U', 'postgres', '-d', 'postgres', '-c', 'SELECT pg_current_xact_id()'],
      { timeoutMs: SHORT_MS, password: serviceRecord(ctx, 'postgres').password });
    await pgbackrest(ctx, ['check']);
    emit({ type: 'progress', line: `restoring the archive at ${at.toISOString()} into a scratch server` });
    b = await ctx.runtime.services.archive.atTime({ at, db }, async (s) => {
      await pauseIfHooked(ctx, 'pitr.scratch'); // tests attack the scratch server here, then kill the daemon
      emit({ type: 'progress', line: `dumping ${db} as it was at ${at.toISOString()}` });
      return createBackup(ctx, app, { actor: o.actor, trigger: 'manual', from: { ...s, db } });
    }, { timeoutMs: BASE_TIMEOUT_MS, progress: (line) => emit({ type: 'progress', line }) });
  } finally {
    ctx.pitrRestoring = false;
  }
  ctx.store.audit({ actor: o.actor, action: 'backup.pitr', app, result: 'dumped', detail: { at: at.toISOString(), db, backup: b.id } });
  emit({ type: 'progress', line: `backup #${b.id} holds ${app}'s data as it was at ${at.toISOString()}` });
  return restoreBackup(ctx, app, { id: b.id, actor: o.actor }, emit) as Promise<RestoreResult>;
}
