// What berth cron shows: an app's jobs (from its live release) with their next and last run,
// a job's recent runs, and the jobs whose last run failed (berth status, apps show).
import { BerthError } from '../../lib/errors.js';
import type { CronRunRow } from '../../state/cron-runs.js';
import type { Ctx } from '../context.js';
import { jobsOf } from './plan.js';

export interface LastRun {
  id: number; state: CronRunRow['state']; exit_code: number | null; duration_ms: number | null; scheduled_at: string; finished_at: string | null;
}

const lastRunOf = (r: CronRunRow | undefined): LastRun | null => (r ? {
  id: r.id, state: r.state, exit_code: r.exit_code, duration_ms: r.duration_ms, scheduled_at: r.scheduled_at, finished_at: r.finished_at,
} : null);

function liveJobs(ctx: Ctx, app: string) {
  const id = ctx.store.getApp(app)?.live_release;
  const live = id ? ctx.store.getRelease(id) : undefined;
  return live ? jobsOf([live]) : [];
}

export function cronJobs(ctx: Ctx, app: string) {
  const next = ctx.cron?.nextRuns(app) ?? new Map<string, Date | null>();
  return liveJobs(ctx, app).map((d) => ({
    job: d.job, schedule: d.schedule, timezone: d.timezone, command: d.command, process: d.process, timeout_ms: d.timeout_ms, release: d.release,
    next_run: next.get(d.job)?.toISOString() ?? null, running: ctx.cron?.isRunning(app, d.job) ?? false,
    last_run: lastRunOf(ctx.store.cron.lastStarted(app, d.job)),
  }));
}

export function cronHistory(ctx: Ctx, app: string, job: string, limit: number): CronRunRow[] {
  const rows = ctx.store.cron.history(app, job, limit);
  if (!rows.length && !liveJobs(ctx, app).some((d) => d.job === job)) {
    throw new BerthError('not_found', `${app} has no cron job ${JSON.stringify(job)}`, `list its jobs with: berth cron ${app}`);
  }
  return rows;
}

/** The live release's jobs whose last run did not succeed: what a status line warns of. */
export function failingJobs(ctx: Ctx, app: string): { job: string; state: string; exit_code: number | null; at: string | null }[] {
  return liveJobs(ctx, app).flatMap((d) => {
    // the last run that ended: a run going on now says nothing yet of how the job fares
    const last = ctx.store.cron.lastEnded(app, d.job);
    return last && ['failed', 'timeout', 'interrupted'].includes(last.state)
      ? [{ job: d.job, state: last.state, exit_code: last.exit_code, at: last.finished_at }] : [];
  });
}
