// The history of cron runs (table cron_runs): one row per slot of a job, inserted before its
// container starts. UNIQUE(app, job, scheduled_at) is what keeps a restarted daemon from running
// a slot twice. Rows in, rows out; the rules are in core/cron/plan.ts.
import type { SQLInputValue } from 'node:sqlite';
import type { DB } from './db.js';
import { now } from './db.js';

export type CronRunState = 'running' | 'succeeded' | 'failed' | 'timeout' | 'skipped' | 'interrupted';
/** schedule: its slot fell due; catch-up: a slot missed while the daemon was down; manual: berth cron --run-now. */
export type CronTrigger = 'schedule' | 'catch-up' | 'manual';

export interface CronRunRow {
  id: number; app: string; job: string; release: string; trigger: CronTrigger; scheduled_at: string; started_at: string | null;
  finished_at: string | null; exit_code: number | null; state: CronRunState; duration_ms: number | null; timeout_ms: number;
  log_tail: string | null; actor: string;
}

export class CronRuns {
  constructor(private readonly db: DB) {}

  private all<T>(sql: string, ...p: SQLInputValue[]): T[] { return this.db.prepare(sql).all(...p) as T[]; }
  private get<T>(sql: string, ...p: SQLInputValue[]): T | undefined { return this.db.prepare(sql).get(...p) as T | undefined; }

  /** The slot's row, or null when the slot has one already (it ran, or runs). */
  insert(r: Pick<CronRunRow, 'app' | 'job' | 'release' | 'trigger' | 'scheduled_at' | 'timeout_ms' | 'actor'> & { state: 'running' | 'skipped' },
    detail?: string): CronRunRow | null {
    const at = now();
    const info = this.db.prepare(`INSERT INTO cron_runs(app, job, release, trigger, scheduled_at, started_at, finished_at, state, timeout_ms, log_tail, actor)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(app, job, scheduled_at) DO NOTHING`)
      .run(r.app, r.job, r.release, r.trigger, r.scheduled_at, r.state === 'running' ? at : null, r.state === 'skipped' ? at : null, r.state,
        r.timeout_ms, detail ?? null, r.actor);
    return info.changes ? this.byId(Number(info.lastInsertRowid))! : null;
  }

  byId(id: number): CronRunRow | undefined { return this.get<CronRunRow>('SELECT * FROM cron_runs WHERE id = ?', id); }

  finish(id: number, state: Exclude<CronRunState, 'running'>, exitCode: number | null, logTail: string | null): void {
    const at = now();
    this.db.prepare(`UPDATE cron_runs SET state = ?, exit_code = ?, log_tail = ?, finished_at = ?,
      duration_ms = CASE WHEN started_at IS NULL THEN NULL ELSE CAST(ROUND((julianday(?) - julianday(started_at)) * 86400000) AS INTEGER) END
      WHERE id = ? AND state = 'running'`).run(state, exitCode, logTail, at, at, id);
  }

  running(): CronRunRow[] { return this.all<CronRunRow>("SELECT * FROM cron_runs WHERE state = 'running' ORDER BY id"); }

  /** The newest slot of a job that fell due on its schedule (not one run by hand). */
  lastScheduled(app: string, job: string): string | null {
    return this.get<{ m: string | null }>("SELECT MAX(scheduled_at) AS m FROM cron_runs WHERE app = ? AND job = ? AND trigger != 'manual'", app,
      job)?.m ?? null;
  }

  /** Newest first. */
  history(app: string, job: string, limit: number): CronRunRow[] {
    return this.all<CronRunRow>('SELECT * FROM cron_runs WHERE app = ? AND job = ? ORDER BY id DESC LIMIT ?', app, job, limit);
  }

  /** The newest run of a job that started (a skipped slot says nothing about how the job does). */
  lastStarted(app: string, job: string): CronRunRow | undefined {
    return this.get<CronRunRow>("SELECT * FROM cron_runs WHERE app = ? AND job = ? AND state != 'skipped' ORDER BY id DESC LIMIT 1", app, job);
  }

  /** The last run that ended (not one going on, not a skipped slot): what status reports. */
  lastEnded(app: string, job: string): CronRunRow | undefined {
    return this.get<CronRunRow>("SELECT * FROM cron_runs WHERE app = ? AND job = ? AND state NOT IN ('skipped', 'running') ORDER BY id DESC LIMIT 1",
      app, job);
  }

  idsOf(app: string, job: string): { id: number; state: CronRunState }[] {
    return this.all('SELECT id, state FROM cron_runs WHERE app = ? AND job = ? ORDER BY id DESC', app, job);
  }

  remove(ids: number[]): void {
    const del = this.db.prepare('DELETE FROM cron_runs WHERE id = ?');
    for (const id of ids) del.run(id);
  }
}
