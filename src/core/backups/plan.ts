// The rules of backups, pure: file names, and what a verification's output says about a backup.
import type { VerifyState } from '../../state/backups.js';
import { byCodeUnit } from '../../lib/order.js';

/** A backup's file under <root>/backups/APP/: its time and a random part, never user text. */
export function backupFileName(at: Date, suffix: string): string {
  return `${at.toISOString().replace(/[:.]/g, '-')}-${suffix}.dump.age`;
}

/** The database a restore moves an app to: its database's name and the time (PostgreSQL's 63
 *  bytes at most, the time kept whole). */
export function restoredDbName(db: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${db.slice(0, 63 - stamp.length - 2)}_r${stamp}`;
}

/** The database an app's grant must go back to at daemon start, or null: a restore moved the
 *  grant onto its new database (grantDb) once its release held the lock, and the daemon died
 *  before the restore was recorded, so the recovery rolled that release back and the live one
 *  reads liveDb. A move that was recorded (a later rollback to a release before it) stays. */
export function unfinishedMove(grantDb: string, liveDb: string | null, recordedDbs: string[]): string | null {
  return liveDb && liveDb !== grantDb && !recordedDbs.includes(grantDb) ? liveDb : null;
}

/** Scratch databases of verifications: berth's own prefix, never an app's name. */
export const SCRATCH_PREFIX = 'berth_verify_';

export interface Verdict { state: VerifyState; detail: string; tables: number; rows: number }

/** Row counts per table in a verify task's section (`schema.table<TAB>count` lines). */
export function countsOf(section: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of section.split('\n')) {
    const tab = line.lastIndexOf('\t');
    if (tab > 0 && /^\d+$/.test(line.slice(tab + 1).trim())) out.set(line.slice(0, tab), Number(line.slice(tab + 1)));
  }
  return out;
}

/** What a verify task's output and exit code say (pg-tools.sh verify): a file age cannot open is
 *  damaged or for another key; one that does not restore, or fails amcheck, failed; one whose
 *  tables' row counts differ from what the dump holds failed; else ok. */
export function verdictOf(output: string, exitCode: number): Verdict {
  const none = { tables: 0, rows: 0 };
  const age = /age: error: (.*)/.exec(output)?.[1]?.trim();
  if (age?.includes('no identity matched')) return { state: 'wrong_key', detail: `made for another backup key (age: ${age})`, ...none };
  if (age) return { state: 'damaged', detail: `the file is damaged: truncated or changed (age: ${age})`, ...none };
  const at = (marker: string) => output.indexOf(`berth: ${marker}\n`);
  if (exitCode !== 0 || at('end') < 0) {
    const step = at('restored') < 0 ? 'pg_restore' : at('checked') < 0 ? 'pg_amcheck' : 'counting the rows';
    return { state: 'failed', detail: `${step} failed (exit ${exitCode}): ${lastLines(output, 6)}`, ...none };
  }
  // every marker, in order: an output cut short (or lines lost) is no proof
  const marks = ['restored', 'checked', 'dump counts', 'restored counts', 'end'].map(at);
  if (marks.some((m, i) => m < 0 || (i > 0 && m < marks[i - 1]!))) {
    return { state: 'failed', detail: `the verification's output is incomplete: ${lastLines(output, 3)}`, ...none };
  }
  const dumped = countsOf(output.slice(at('dump counts'), at('restored counts')));
  const restored = countsOf(output.slice(at('restored counts'), at('end')));
  const wrong = [...dumped].filter(([t, n]) => restored.get(t) !== n)
    .map(([t, n]) => `${t}: ${n} rows in the dump, ${restored.has(t) ? restored.get(t) : 'no such table'} restored`);
  const rows = [...dumped.values()].reduce((a, b) => a + b, 0);
  if (wrong.length) return { state: 'failed', detail: `the restored copy differs from the dump: ${wrong.slice(0, 5).join('; ')}`, tables: dumped.size, rows };
  const detail = `restored, pg_amcheck found no corruption, ${dumped.size} tables with ${rows} rows as the dump holds`;
  return { state: 'ok', detail, tables: dumped.size, rows };
}

function lastLines(s: string, n: number): string {
  return s.trim().split('\n').filter((l) => !l.startsWith('berth: ')).slice(-n).join(' | ');
}

/** How an app is backed up: when (cron syntax, in a time zone), when its latest backup is
 *  verified (and whether each backup is, at once), what retention keeps, and what of the app
 *  the platform backup holds besides its database (its volumes, its bucket's objects). */
export interface BackupPolicy {
  schedule: string | null; timezone: string; verify_schedule: string | null; verify_after: boolean;
  keep_daily: number; keep_weekly: number; keep_monthly: number;
  platform_volumes: boolean; platform_bucket: boolean;
}
// a bucket can be far larger than a database: in the platform backup only when asked for
export const DEFAULT_POLICY: BackupPolicy = {
  schedule: '0 3 * * *', timezone: 'Etc/UTC', verify_schedule: '0 4 * * 0', verify_after: false, keep_daily: 7, keep_weekly: 4, keep_monthly: 6,
  platform_volumes: true, platform_bucket: false,
};

type Kept = { id: number; created_at: string; verify_state: string | null };

/** The backups retention prunes (pure): it keeps the newest of each of the last keep_daily days,
 *  keep_weekly ISO weeks and keep_monthly months that hold one (UTC), the newest of all, and the
 *  newest that passed a verification (so a proven backup always remains, however old). */
export function toPrune(backups: Kept[], p: Pick<BackupPolicy, 'keep_daily' | 'keep_weekly' | 'keep_monthly'>): number[] {
  const newest = [...backups].sort((a, b) => byCodeUnit(b.created_at, a.created_at) || b.id - a.id);
  const keep = new Set<number>(newest.slice(0, 1).map((b) => b.id));
  const proven = newest.find((b) => b.verify_state === 'ok');
  if (proven) keep.add(proven.id);
  const buckets = (key: (d: Date) => string, n: number) => {
    const seen = new Set<string>();
    for (const b of newest) {
      const k = key(new Date(b.created_at));
      if (seen.has(k)) continue;
      if (seen.size >= n) break;
      seen.add(k);
      keep.add(b.id);
    }
  };
  buckets((d) => d.toISOString().slice(0, 10), p.keep_daily);
  buckets(isoWeek, p.keep_weekly);
  buckets((d) => d.toISOString().slice(0, 7), p.keep_monthly);
  return newest.filter((b) => !keep.has(b.id)).map((b) => b.id).sort((a, b) => a - b);
}

/** ISO 8601 week of a date (UTC), e.g. 2026-W49. */
export function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day); // the Thursday of its week names the week's year
  const week = Math.ceil(((t.getTime() - Date.UTC(t.getUTCFullYear(), 0, 1)) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** An app's backups as `berth status` shows them (pure): failed when the last attempt failed;
 *  stale when no backup is newer than 1.5 times the schedule's interval; none before the first. */
export function backupHealth(o: {
  lastOk: string | null; lastFailed: string | null; badVerify: string | null; since: string; intervalMs: number | null; now: Date;
}): { state: 'ok' | 'failed' | 'stale' | 'none'; detail: string } {
  if (o.lastFailed && (!o.lastOk || o.lastFailed > o.lastOk)) return { state: 'failed', detail: `the last backup failed at ${o.lastFailed}` };
  if (o.badVerify) return { state: 'failed', detail: o.badVerify };
  const age = o.now.getTime() - new Date(o.lastOk ?? o.since).getTime();
  if (!o.lastOk) return o.intervalMs && age > 1.5 * o.intervalMs ? { state: 'stale', detail: 'no backup yet' } : { state: 'none', detail: 'no backup yet' };
  if (o.intervalMs && age > 1.5 * o.intervalMs) return { state: 'stale', detail: `the last backup is ${Math.round(age / 3_600_000)} h old` };
  return { state: 'ok', detail: `last backup at ${o.lastOk}` };
}
