// The daemon's cron: every entry of every app's live release, each run a one-off container of
// that release (labelled as a cron run with its row's id). The row is written before the
// container starts; a daemon that starts again waits for the runs still going, marks the
// ones whose container is gone `interrupted`, and runs the last slot it missed once (plan.ts).
// A deploy or rollback re-reads the entries at once (sync, called when it lets go of the lock).
import { asBerthError, BerthError } from '../../lib/errors.js';
import type { OneOffRef } from '../../runtime/types.js';
import type { CronRunRow, CronTrigger } from '../../state/cron-runs.js';
import type { Ctx } from '../context.js';
import { processSpec } from '../deploy/execute.js';
import { atTick, CATCH_UP_WINDOW_MS, catchUpSlot, jobKey, type JobDef, jobsOf, logTail, prunable, remainingMs, sameJob, stateOfExit } from './plan.js';

type Pattern = typeof import('./pattern.js');
interface Scheduled { def: JobDef; schedule: import('./pattern.js').Schedule; timer?: NodeJS.Timeout; next: Date | null }

/** setTimeout holds at most ~24.8 days; a later slot is reached in steps of a day. */
const MAX_TIMER_MS = 24 * 3_600_000;

export class CronScheduler {
  private readonly jobs = new Map<string, Scheduled>();
  /** Runs going on now, by job: never two of one job. */
  private readonly running = new Map<string, Promise<void>>();
  private pattern: Pattern | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly ctx: Ctx, private readonly catchUpWindowMs = CATCH_UP_WINDOW_MS) {}

  /** At daemon start: settle the runs the previous daemon left, schedule every entry, catch up. */
  async start(): Promise<void> {
    await this.recover();
    await this.sync();
    const now = new Date();
    for (const s of this.jobs.values()) {
      const slot = catchUpSlot(this.pattern!.lastDue(s.schedule, now, this.catchUpWindowMs), this.ctx.store.cron.lastScheduled(s.def.app, s.def.job),
        now, this.catchUpWindowMs);
      if (slot) this.begin(s.def, slot, 'catch-up', 'berth');
    }
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.jobs.values()) clearTimeout(s.timer);
  }

  /** Re-reads the live releases' entries: new ones are scheduled, changed ones set up again,
   *  gone ones dropped (a run going on finishes). Calls never overlap. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncNow()).catch((e: unknown) => {
      this.ctx.log.error({ err: asBerthError(e).message }, 'scheduling cron jobs failed; tried again at the next reconcile');
    });
    return this.syncing;
  }

  private async syncNow(): Promise<void> {
    if (this.stopped) return;
    const live = this.ctx.store.listApps().flatMap((a) => (a.live_release ? [this.ctx.store.getRelease(a.live_release)!] : []));
    const defs = new Map(jobsOf(live).map((d) => [jobKey(d), d] as const));
    for (const [key, s] of this.jobs) {
      if (defs.has(key) && sameJob(defs.get(key)!, s.def)) continue;
      clearTimeout(s.timer);
      this.jobs.delete(key);
    }
    if (![...defs.keys()].some((k) => !this.jobs.has(k))) return;
    // loaded once there is a job to schedule: a daemon without cron jobs never loads croner
    this.pattern ??= await import('./pattern.js');
    for (const [key, def] of defs) {
      if (this.jobs.has(key)) continue;
      const s: Scheduled = { def, schedule: this.pattern.compile(def.schedule, def.timezone), next: null };
      this.jobs.set(key, s);
      this.arm(s, new Date());
    }
  }

  private arm(s: Scheduled, after: Date): void {
    s.next = this.pattern!.nextSlot(s.schedule, after);
    if (!s.next) return;
    const slot = s.next;
    const wait = slot.getTime() - Date.now();
    s.timer = setTimeout(() => {
      if (this.jobs.get(jobKey(s.def)) !== s || this.stopped) return;
      if (wait > MAX_TIMER_MS) return this.arm(s, after); // not due yet: one more step
      this.arm(s, slot);
      this.begin(s.def, slot, 'schedule', 'berth');
    }, Math.max(0, Math.min(wait, MAX_TIMER_MS)));
  }

  /** Runs a job now (berth cron --run-now), under the same rule: not while a run of it goes on. */
  runNow(app: string, job: string, actor: string): CronRunRow {
    const s = this.jobs.get(jobKey({ app, job }));
    if (!s) {
      const known = [...this.jobs.values()].filter((x) => x.def.app === app).map((x) => x.def.job);
      throw new BerthError('not_found', `${app} has no cron job ${JSON.stringify(job)} in its live release`,
        known.length ? `its jobs: ${known.join(', ')}` : `add one under cron: in berth.yml and deploy ${app}`);
    }
    return this.begin(s.def, new Date(), 'manual', actor);
  }

  /** A slot fell due: its row first (unique per slot), then its container; or a skipped row. */
  private begin(def: JobDef, slot: Date, trigger: CronTrigger, actor: string): CronRunRow {
    const key = jobKey(def);
    const row = { app: def.app, job: def.job, release: def.release, trigger, scheduled_at: slot.toISOString(), timeout_ms: def.timeout_ms, actor };
    const decision = atTick(def, new Set(this.running.keys()));
    if (decision.action === 'skip') {
      const skipped = this.ctx.store.cron.insert({ ...row, state: 'skipped' }, decision.reason);
      this.prune(def);
      return skipped ?? this.ctx.store.cron.history(def.app, def.job, 1)[0]!;
    }
    const run = this.ctx.store.cron.insert({ ...row, state: 'running' });
    if (!run) return this.ctx.store.cron.history(def.app, def.job, 1)[0]!; // this slot ran already
    this.track(key, this.execute(def, run));
    return run;
  }

  private track(key: string, p: Promise<void>): void {
    this.running.set(key, p);
    void p.finally(() => { if (this.running.get(key) === p) this.running.delete(key); });
  }

  /** Starts the run's container (unless a previous daemon did), waits for it, records how it ended. */
  private async execute(def: Pick<JobDef, 'app' | 'job' | 'releaseId' | 'command' | 'process'>, run: CronRunRow, started?: OneOffRef): Promise<void> {
    const cron = this.ctx.store.cron;
    try {
      let ref = started;
      if (!ref) {
        const release = this.ctx.store.getRelease(def.releaseId);
        if (!release) throw new BerthError('not_found', `release ${run.release} of ${def.app} is gone`);
        ref = await this.ctx.runtime.startOneOff(processSpec(this.ctx, release, def.process), def.command, { kind: 'cron', key: String(run.id) });
      }
      const r = await this.ctx.runtime.waitOneOff(ref, { timeoutMs: remainingMs(run.timeout_ms, run.started_at!, new Date()) });
      cron.finish(run.id, stateOfExit(r.exitCode), r.exitCode, logTail(r.output));
    } catch (e) {
      const err = asBerthError(e);
      const output = typeof err.details?.output === 'string' ? `${err.details.output}\n` : '';
      cron.finish(run.id, err.code === 'timeout' ? 'timeout' : 'failed', null, logTail(`${output}berth: ${err.message}`));
      if (err.code !== 'timeout') this.ctx.log.warn({ app: def.app, job: def.job, run: run.id, err: err.message }, 'cron run failed to run');
    }
    this.prune(def);
  }

  private prune(def: Pick<JobDef, 'app' | 'job'>): void {
    this.ctx.store.cron.remove(prunable(this.ctx.store.cron.idsOf(def.app, def.job)));
  }

  /** Runs the previous daemon left `running`: waited for again while their container is there
   *  (running or exited: its exit code is kept), `interrupted` when it is gone. Containers of
   *  no running row (their app deleted) are removed. */
  private async recover(): Promise<void> {
    const containers = await this.ctx.runtime.listOneOffs('cron');
    const rows = this.ctx.store.cron.running();
    for (const run of rows) {
      const c = containers.find((x) => x.key === String(run.id) && x.app === run.app);
      if (!c) {
        this.ctx.store.cron.finish(run.id, 'interrupted', null, 'berth: the daemon stopped during this run and its container was gone when it started again');
        continue;
      }
      const release = this.ctx.store.releasesOf(run.app).find((r) => `v${r.seq}` === run.release);
      this.track(jobKey(run), this.execute({ app: run.app, job: run.job, releaseId: release?.id ?? -1, command: [], process: '' }, run, c));
    }
    for (const c of containers.filter((x) => !rows.some((r) => String(r.id) === x.key && r.app === x.app))) {
      await this.ctx.runtime.waitOneOff(c, { timeoutMs: 1 }).catch((e: unknown) => {
        if (asBerthError(e).code !== 'timeout') this.ctx.log.warn({ container: c.name, err: asBerthError(e).message },
          'removing a stray cron container failed');
      });
    }
  }

  /** The next slot of each of an app's jobs, by job name. */
  nextRuns(app: string): Map<string, Date | null> {
    return new Map([...this.jobs.values()].filter((s) => s.def.app === app).map((s) => [s.def.job, s.next] as const));
  }

  isRunning(app: string, job: string): boolean { return this.running.has(jobKey({ app, job })); }

  /** Resolves once every run going on now has ended (tests). */
  async idle(): Promise<void> { await Promise.all(this.running.values()); }
}
