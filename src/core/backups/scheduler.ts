// The daemon's backup schedule: every app with a database is backed up on its policy's schedule
// (daily at 03:00 UTC unless set), its latest backup verified on the verify schedule (weekly) or
// right after each backup (verify_after), and retention applied after each backup. A slot missed
// while the daemon was down runs once when it starts (the last due within a day and a half).
// Failures are recorded (audit, berth status); the schedule goes on. The WAL archive of the
// bundled PostgreSQL gets a base backup every day at 02:30 UTC (pitr.ts), the platform its own
// at 04:00 UTC (platform.ts).
import { asBerthError } from '../../lib/errors.js';
import type { Ctx } from '../context.js';
import { grantsOf } from '../shared-services/services.js';
import { createBackup, currentBackups, deleteBackup, policyOf, verifyBackup } from './backups.js';
import { archives, baseBackup } from './pitr.js';
import { createPlatformBackup, PLATFORM } from './platform.js';
import { DEFAULT_POLICY, toPrune } from './plan.js';

type Pattern = typeof import('../cron/pattern.js');
interface Slot { key: string; timer?: NodeJS.Timeout }

const BASE_BACKUP_SCHEDULE = '30 2 * * *';
const PLATFORM_SCHEDULE = '0 4 * * *';
const MAX_TIMER_MS = 24 * 3_600_000;
const CATCH_UP_MS = 36 * 3_600_000;


export class BackupScheduler {
  private readonly slots = new Map<string, Slot>();
  private pattern: Pattern | undefined;
  private stopped = false;

  constructor(private readonly ctx: Ctx) {}

  /** Schedules every app's backups and verifications as their policies say; runs a missed backup once. */
  async sync(catchUp = false): Promise<void> {
    if (this.stopped) return;
    const apps = this.ctx.store.listApps().filter((x) => grantsOf(this.ctx, x.name).postgres);
    // croner only once there is something to schedule: the daemon at rest does without it
    if (apps.length) this.pattern ??= await import('../cron/pattern.js');
    const want = new Map<string, () => void>();
    for (const a of apps) {
      if (!this.pattern) break;
      const p = policyOf(this.ctx, a.name);
      const jobs = [['backup', p.schedule, () => this.backUp(a.name)], ['verify', p.verify_schedule, () => this.verify(a.name)]] as const;
      for (const [kind, schedule, fire] of jobs) {
        const key = `${a.name} ${kind} ${schedule} ${p.timezone}`;
        if (schedule) want.set(key, () => this.arm(key, schedule, p.timezone, fire));
      }
      if (catchUp && p.schedule) {
        const due = this.pattern.lastDue(this.pattern.compile(p.schedule, p.timezone), new Date(), CATCH_UP_MS);
        const last = currentBackups(this.ctx, a.name)[0]?.created_at;
        // a slot the app existed for, with no backup since
        if (due && due > new Date(a.created_at) && (!last || new Date(last) < due)) void this.backUp(a.name);
      }
    }
    // the WAL archive's base backup, daily (full once a week, differential between): the older
    // the last one, the more WAL a point-in-time restore replays
    if (archives(this.ctx)) {
      this.pattern ??= await import('../cron/pattern.js');
      const key = `pitr base ${BASE_BACKUP_SCHEDULE}`;
      want.set(key, () => this.arm(key, BASE_BACKUP_SCHEDULE, 'Etc/UTC', () => this.baseBackup()));
    }
    if (apps.length) {
      const key = `platform ${PLATFORM_SCHEDULE}`;
      want.set(key, () => this.arm(key, PLATFORM_SCHEDULE, 'Etc/UTC', () => this.platform()));
    }
    for (const [key, s] of this.slots) if (!want.has(key)) { clearTimeout(s.timer); this.slots.delete(key); }
    for (const [key, arm] of want) if (!this.slots.has(key)) arm();
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.slots.values()) clearTimeout(s.timer);
  }

  /** When an app's next backup and verification are due. */
  nextOf(app: string): { backup: Date | null; verify: Date | null } {
    const p = policyOf(this.ctx, app);
    const next = (s: string | null) => (s && this.pattern ? this.pattern.nextSlot(this.pattern.compile(s, p.timezone), new Date()) : null);
    return { backup: next(p.schedule), verify: next(p.verify_schedule) };
  }

  /** The time between an app's scheduled backups (null: none scheduled). */
  intervalOf(app: string): number | null {
    const p = policyOf(this.ctx, app);
    if (!p.schedule || !this.pattern) return null;
    const s = this.pattern.compile(p.schedule, p.timezone);
    const a = this.pattern.nextSlot(s, new Date());
    const b = a && this.pattern.nextSlot(s, a);
    return a && b ? b.getTime() - a.getTime() : null;
  }

  private arm(key: string, schedule: string, timezone: string, fire: () => Promise<void>): void {
    const slot: Slot = this.slots.get(key) ?? { key };
    this.slots.set(key, slot);
    const next = this.pattern!.nextSlot(this.pattern!.compile(schedule, timezone), new Date());
    if (!next || this.stopped) return;
    const wait = next.getTime() - Date.now();
    slot.timer = setTimeout(() => {
      if (this.slots.get(key) !== slot) return;
      if (wait > MAX_TIMER_MS) return this.arm(key, schedule, timezone, fire);
      void fire().finally(() => { if (this.slots.get(key) === slot) this.arm(key, schedule, timezone, fire); });
    }, Math.min(Math.max(wait, 0), MAX_TIMER_MS));
    slot.timer.unref();
  }

  /** One scheduled backup: made, verified when the policy says so, then retention. */
  async backUp(app: string): Promise<void> {
    try {
      const b = await createBackup(this.ctx, app, { actor: 'berth', trigger: 'schedule' });
      if (policyOf(this.ctx, app).verify_after) await verifyBackup(this.ctx, app, { id: b.id, actor: 'berth' });
      await this.prune(app);
    } catch (e) {
      this.ctx.log.error({ app, err: asBerthError(e).message }, 'a scheduled backup failed');
    }
  }

  /** The platform's own backup, after the apps' nightly ones (which it points at). */
  private async platform(): Promise<void> {
    try {
      await createPlatformBackup(this.ctx, { actor: 'berth', fresh: false }, () => undefined);
      const gone = toPrune(this.ctx.store.backups.of(PLATFORM), DEFAULT_POLICY);
      for (const id of gone) {
        const r = await deleteBackup(this.ctx, PLATFORM, { id, actor: 'berth' });
        if (r.kept_on.length) this.ctx.log.error({ backup: id, kept_on: r.kept_on }, 'retention could not remove a platform backup\'s copy from a target');
      }
    } catch (e) {
      this.ctx.log.error({ err: asBerthError(e).message }, 'the scheduled platform backup failed');
    }
  }

  private async baseBackup(): Promise<void> {
    try {
      await baseBackup(this.ctx, { actor: 'berth' });
    } catch (e) {
      this.ctx.log.error({ err: asBerthError(e).message }, 'the scheduled base backup of the WAL archive failed');
    }
  }

  private async verify(app: string): Promise<void> {
    if (!currentBackups(this.ctx, app).length) return;
    try {
      const v = await verifyBackup(this.ctx, app, { actor: 'berth' });
      if (v.state !== 'ok') this.ctx.log.error({ app, backup: v.backup, state: v.state, detail: v.detail }, 'a backup failed its verification');
    } catch (e) {
      this.ctx.log.error({ app, err: asBerthError(e).message }, 'a scheduled verification failed to run');
    }
  }

  /** Retention after a backup: what the policy does not keep goes, file and record. */
  async prune(app: string): Promise<number[]> {
    const gone = toPrune(currentBackups(this.ctx, app), policyOf(this.ctx, app));
    for (const id of gone) {
      const r = await deleteBackup(this.ctx, app, { id, actor: 'berth' });
      if (r.kept_on.length) this.ctx.log.error({ app, backup: id, kept_on: r.kept_on }, 'retention could not remove a backup\'s copy from a target');
    }
    return gone;
  }
}
