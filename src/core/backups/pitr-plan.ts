// Point-in-time recovery, the pure part: the instant a user names, the window pgBackRest's info
// and PostgreSQL's archiver say can be recovered, and which database an app had at an instant.
import { BerthError } from '../../lib/errors.js';
import type { RestoreRow } from '../../state/backups.js';
import { byCodeUnit } from '../../lib/order.js';

/** `2026-12-01 10:32:00`, `2026-12-01T10:32:00.250Z`, `2026-12-01 10:32+01:00`: UTC unless the
 *  text gives an offset (said back to the user as an ISO instant). */
export function parsePitrTime(text: string): Date {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(\.\d{1,3})?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?$/i.exec(text.trim());
  const zone = m?.[5] ? (m[5].toUpperCase() === 'Z' ? 'Z' : m[5].length === 3 ? `${m[5]}:00` : m[5].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')) : 'Z';
  const d = m ? new Date(`${m[1]}T${m[2]}${m[3] ?? ':00'}${zone}`) : new Date(NaN);
  // the fields as written, read back: no 2026-02-30 or 24:00 rolled over into another day
  const [y, mo, day] = (m?.[1] ?? '').split('-').map(Number);
  const [h, mi] = (m?.[2] ?? '').split(':').map(Number);
  const sec = Number((m?.[3] ?? ':00').slice(1, 3));
  const f = new Date(Date.UTC(y!, mo! - 1, day, h, mi, sec));
  const exact = !!m && f.getUTCFullYear() === y && f.getUTCMonth() === mo! - 1 && f.getUTCDate() === day && f.getUTCHours() === h
    && f.getUTCMinutes() === mi && f.getUTCSeconds() === sec;
  if (!exact || Number.isNaN(d.getTime())) {
    throw new BerthError('invalid', `"${text}" is not an instant berth can restore to`,
      'give a date and time like "2026-12-01 10:32:00" (UTC), or with an offset: "2026-12-01 11:32:00+01:00"');
  }
  return d;
}

/** What `pgbackrest info --output=json` says of the stanza (the fields berth reads). */
export interface PgBackRestInfo {
  backup?: { label: string; type: string; timestamp: { start: number; stop: number }; info?: { size?: number; repository?: { delta?: number } } }[];
  status?: { code: number; message: string };
  db?: { 'system-id': number; version: string }[];
}

export interface BaseBackup { label: string; type: string; started_at: string; finished_at: string; stored_bytes: number }

export interface PitrWindow {
  /** whether this platform archives its PostgreSQL (not when it is external: the provider's job) */
  archiving: boolean;
  /** the earliest instant that can be restored to (the end of the oldest base backup), and the
   *  latest: now, once the WAL written until now is archived (a restore does that first) */
  from: string | null;
  to: string | null;
  base_backups: BaseBackup[];
  last_archived_at: string | null;
  /** the archiver's last failure, when it came after its last success */
  archive_failing: { at: string; wal: string } | null;
  /** the cluster's system identifier (pgBackRest's stanza is of that one cluster): where its archive goes on a target */
  system_id?: string;
  /** the cluster's size at its newest base backup: what a restore to an instant writes to disk at most */
  cluster_bytes?: number;
  /** pgBackRest finds the repository sound and holding a base backup: only then may a copy on a
   *  target lose what the repository no longer has (its expired backups and WAL) */
  repo_sound: boolean;
  /** each target's last complete copy of the archive */
  offsite?: { target: string; copied_at: string | null }[];
  note?: string;
}

const iso = (epochS: number) => new Date(epochS * 1000).toISOString();

/** The window from pgBackRest's info and a `last_archived|last_failed|last_failed_wal` line
 *  (epoch seconds) of pg_stat_archiver. */
export function windowOf(infoJson: string, archiver: string, now: Date): PitrWindow {
  const info = (JSON.parse(infoJson) as PgBackRestInfo[])[0];
  const base = (info?.backup ?? []).map((b) => ({
    label: b.label, type: b.type, started_at: iso(b.timestamp.start), finished_at: iso(b.timestamp.stop), stored_bytes: b.info?.repository?.delta ?? 0,
  }));
  const [archived, failed, wal] = archiver.trim().split('|');
  const num = (x: string | undefined) => (x ? Number(x) : null);
  const lastOk = num(archived);
  const lastBad = num(failed);
  return {
    archiving: true, base_backups: base, repo_sound: info?.status?.code === 0 && base.length > 0,
    from: base[0]?.finished_at ?? null, to: base.length ? now.toISOString() : null,
    cluster_bytes: info?.backup?.at(-1)?.info?.size ?? 0,
    ...(info?.db?.length ? { system_id: String(info.db.at(-1)!['system-id']) } : {}),
    last_archived_at: lastOk === null ? null : iso(lastOk),
    archive_failing: lastBad !== null && (lastOk === null || lastBad > lastOk) ? { at: iso(lastBad), wal: wal ?? '' } : null,
    ...(base.length ? {} : { note: 'no base backup yet: one is taken when the platform starts; take one now with berth backup pitr --base' }),
  };
}

/** Why `at` cannot be restored to, or null when it lies in the window. */
export function outsideWindow(w: PitrWindow, at: Date): string | null {
  if (!w.archiving) return w.note ?? 'this platform does not archive its PostgreSQL';
  if (!w.from) return w.note ?? 'there is no base backup yet';
  // pgBackRest restores from a set that ended strictly before the instant
  if (at.getTime() <= new Date(w.from).getTime()) return `${at.toISOString()} is not after the oldest base backup ended (${w.from})`;
  if (at.getTime() > Date.now()) return `${at.toISOString()} is in the future`;
  return null;
}

/** The database the app used at `at`: the one the first restore after `at` replaced, or today's. */
export function databaseAt(restores: RestoreRow[], current: string, at: Date): string {
  const later = restores.filter((r) => new Date(r.at).getTime() > at.getTime()).sort((a, b) => byCodeUnit(a.at, b.at));
  return later[0]?.previous_db ?? current;
}

/** A full base backup when none of the last week is there, a differential one otherwise. */
export function baseTypeDue(base: BaseBackup[], now: Date): 'full' | 'diff' {
  const week = 7 * 24 * 3_600_000;
  return base.some((b) => b.type === 'full' && now.getTime() - new Date(b.finished_at).getTime() < week - 3_600_000) ? 'diff' : 'full';
}
