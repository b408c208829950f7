// The backups berth made (table backups): one row per encrypted file, inserted once the file is
// written, renamed into place and hashed. Rows in, rows out; the rules are in core/backups/.
import type { SQLInputValue } from 'node:sqlite';
import type { DB } from './db.js';
import { now } from './db.js';

/** ok: restored, checked and counted; damaged: the file is not what was written (truncated, a
 *  flipped byte); wrong_key: made for another backup key; failed: it did not restore or check. */
export type VerifyState = 'ok' | 'damaged' | 'wrong_key' | 'failed';
export type BackupTrigger = 'manual' | 'schedule';

/** logical: pg_dump of the app's database; pitr: the same, of its database as it was at an instant
 *  (restored from the WAL archive into a scratch server), made by `backup restore --at`. */
export type BackupKind = 'logical' | 'pitr';

export interface BackupRow {
  id: number; app: string; kind: BackupKind; file: string; size: number; sha256: string; recipient: string; created_at: string;
  duration_ms: number; trigger: BackupTrigger; actor: string; verified_at: string | null; verify_state: VerifyState | null;
  verify_detail: string | null;
}

/** A restore: the app moved from previous_db to db; previous_db is kept until purged. */
export interface RestoreRow { id: number; app: string; backup: number; db: string; previous_db: string; at: string; actor: string; purged_at: string | null }

/** An off-site target; `config` is encrypted JSON (core/backups/offsite.ts). */
export interface TargetRow { name: string; kind: 's3'; config: string; created_at: string; last_success_at: string | null; last_error: string | null }
export interface CopyRow { backup: number; target: string; key: string; at: string }

export class Backups {
  constructor(private readonly db: DB) {}

  private all<T>(sql: string, ...p: SQLInputValue[]): T[] { return this.db.prepare(sql).all(...p) as T[]; }

  insert(r: Pick<BackupRow, 'app' | 'kind' | 'file' | 'size' | 'sha256' | 'recipient' | 'duration_ms' | 'trigger' | 'actor'>): BackupRow {
    const info = this.db.prepare(`INSERT INTO backups(app, kind, file, size, sha256, recipient, created_at, duration_ms, trigger, actor)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(r.app, r.kind, r.file, r.size, r.sha256, r.recipient, now(), r.duration_ms, r.trigger, r.actor);
    return this.byId(Number(info.lastInsertRowid))!;
  }

  byId(id: number): BackupRow | undefined {
    return this.db.prepare('SELECT * FROM backups WHERE id = ?').get(id) as BackupRow | undefined;
  }

  /** Whether any backup was ever made (a verification may have run). */
  any(): boolean { return !!this.db.prepare('SELECT 1 FROM backups LIMIT 1').get(); }

  /** An app's backups, newest first. */
  of(app: string): BackupRow[] { return this.all<BackupRow>('SELECT * FROM backups WHERE app = ? ORDER BY id DESC', app); }

  verified(id: number, state: VerifyState, detail: string): void {
    this.db.prepare('UPDATE backups SET verified_at = ?, verify_state = ?, verify_detail = ? WHERE id = ?').run(now(), state, detail, id);
  }

  remove(id: number): void { this.db.prepare('DELETE FROM backups WHERE id = ?').run(id); }

  restored(r: Pick<RestoreRow, 'app' | 'backup' | 'db' | 'previous_db' | 'actor'>): RestoreRow {
    const info = this.db.prepare('INSERT INTO restores(app, backup, db, previous_db, at, actor) VALUES (?, ?, ?, ?, ?, ?)')
      .run(r.app, r.backup, r.db, r.previous_db, now(), r.actor);
    return this.restoresOf(r.app).find((x) => x.id === Number(info.lastInsertRowid))!;
  }

  /** An app's restores, newest first. */
  restoresOf(app: string): RestoreRow[] { return this.all<RestoreRow>('SELECT * FROM restores WHERE app = ? ORDER BY id DESC', app); }

  /** The app's policy as set (JSON; core/backups/plan.ts has its shape and default), or null. */
  policy(app: string): string | null {
    return (this.db.prepare('SELECT policy FROM backup_policies WHERE app = ?').get(app) as { policy: string } | undefined)?.policy ?? null;
  }

  setPolicy(app: string, policy: string): void {
    this.db.prepare('INSERT INTO backup_policies(app, policy) VALUES (?, ?) ON CONFLICT(app) DO UPDATE SET policy = excluded.policy').run(app, policy);
  }

  targets(): TargetRow[] { return this.all<TargetRow>('SELECT * FROM backup_targets ORDER BY name'); }

  addTarget(name: string, config: string): void {
    this.db.prepare(`INSERT INTO backup_targets(name, kind, config, created_at) VALUES (?, 's3', ?, ?)
      ON CONFLICT(name) DO UPDATE SET config = excluded.config, last_error = NULL`).run(name, config, now());
  }

  removeTarget(name: string): void {
    this.db.prepare('DELETE FROM backup_copies WHERE target = ?').run(name);
    this.db.prepare('DELETE FROM backup_targets WHERE name = ?').run(name);
  }

  targetOutcome(name: string, error: string | null): void {
    if (error) this.db.prepare('UPDATE backup_targets SET last_error = ? WHERE name = ?').run(error, name);
    else this.db.prepare('UPDATE backup_targets SET last_success_at = ?, last_error = NULL WHERE name = ?').run(now(), name);
  }

  copied(backup: number, target: string, key: string): void {
    this.db.prepare('INSERT OR REPLACE INTO backup_copies(backup, target, key, at) VALUES (?, ?, ?, ?)').run(backup, target, key, now());
  }

  copiesOf(backup: number): CopyRow[] { return this.all<CopyRow>('SELECT * FROM backup_copies WHERE backup = ? ORDER BY target', backup); }

  uncopy(backup: number, target: string): void { this.db.prepare('DELETE FROM backup_copies WHERE backup = ? AND target = ?').run(backup, target); }

  purged(id: number): void { this.db.prepare('UPDATE restores SET purged_at = ? WHERE id = ?').run(now(), id); }
}
