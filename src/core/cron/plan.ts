// The rules of cron runs, as pure functions: what a due slot does given the runs going on, which
// missed slot a restarted daemon runs, what history is pruned, what a run keeps of its output.
// The scheduler (scheduler.ts) applies them; croner computes the slots (pattern.ts).
import type { ReleaseRow } from '../../state/store.js';
import type { CronRunState } from '../../state/cron-runs.js';
import { specOf } from '../deploy/release-spec.js';
import { relName } from '../deploy/engine.js';
import { WEB } from '../../runtime/types.js';

/** One cron entry of an app's live release, as the scheduler runs it. */
export interface JobDef {
  app: string; job: string; releaseId: number; release: string;
  schedule: string; timezone: string; command: string[]; process: string; timeout_ms: number;
}

export const jobKey = (d: Pick<JobDef, 'app' | 'job'>) => `${d.app}/${d.job}`;

/** A slot missed while the daemon was down is run at its start if it is at most this late. */
export const CATCH_UP_WINDOW_MS = 15 * 60_000;
/** Runs kept per job (the running one is never pruned). */
export const KEEP_RUNS = 50;
/** What a run keeps of its output: its last lines, capped in size. */
export const TAIL_LINES = 40;
export const TAIL_MAX_CHARS = 8 * 1024;

/** The cron entries of the apps' live releases (releases without a description have none). */
export function jobsOf(live: ReleaseRow[]): JobDef[] {
  return live.flatMap((r) => Object.entries(specOf(r).cron ?? {}).map(([job, c]) => ({
    app: r.app, job, releaseId: r.id, release: relName(r),
    schedule: c.schedule, timezone: c.timezone, command: c.command, process: c.process ?? WEB, timeout_ms: c.timeout_ms,
  })));
}

/** Whether a scheduled job must be set up again: anything it runs with changed (its release too:
 *  a deploy that keeps the entry runs it from the new image). */
export const sameJob = (a: JobDef, b: JobDef) => JSON.stringify(a) === JSON.stringify(b);

export type TickDecision = { action: 'start' } | { action: 'skip'; reason: string };

/** What a due slot does: never two runs of one job at once. */
export function atTick(def: Pick<JobDef, 'app' | 'job'>, running: ReadonlySet<string>): TickDecision {
  return running.has(jobKey(def)) ? { action: 'skip', reason: 'the previous run was still going' } : { action: 'start' };
}

/**
 * The one missed slot a daemon runs at its start, or null. Only the last slot due before now is
 * considered (several missed slots run once, not one by one), only if it is no more than
 * `windowMs` late, and only for a job that ran (or was skipped) before it: a slot that already
 * has a run is never run again, and a job that never ran has nothing to catch up.
 */
export function catchUpSlot(lastDue: Date | null, lastRecorded: string | null, now: Date, windowMs = CATCH_UP_WINDOW_MS): Date | null {
  if (!lastDue || !lastRecorded) return null;
  if (lastDue.toISOString() <= lastRecorded) return null;
  return now.getTime() - lastDue.getTime() <= windowMs ? lastDue : null;
}

/** Runs of one job to delete, newest first in: all but the `keep` newest, never one still running. */
export function prunable(rows: { id: number; state: CronRunState }[], keep = KEEP_RUNS): number[] {
  return rows.slice(keep).filter((r) => r.state !== 'running').map((r) => r.id);
}

/** The end of a run's output: its last lines, at most TAIL_MAX_CHARS (cut at a line start). */
export function logTail(output: string, lines = TAIL_LINES, maxChars = TAIL_MAX_CHARS): string {
  const kept = output.replace(/\n$/, '').split('\n').slice(-lines).join('\n');
  if (kept.length <= maxChars) return kept;
  const cut = kept.slice(-maxChars);
  const nl = cut.indexOf('\n');
  return nl >= 0 && nl < cut.length - 1 ? cut.slice(nl + 1) : cut;
}

export const stateOfExit = (exitCode: number): 'succeeded' | 'failed' => (exitCode === 0 ? 'succeeded' : 'failed');

/** A run's time left after `elapsedMs`, when a restarted daemon waits for it again (at least a second). */
export const remainingMs = (timeoutMs: number, startedAt: string, now: Date) => Math.max(1000, timeoutMs - (now.getTime() - Date.parse(startedAt)));
