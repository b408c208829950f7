// One operation per app at a time. The lock lives in memory (with the holder's abort switch)
// and, for operators' operations, in the state file too, so a daemon that crashed leaves a lock
// the next boot recognises as stale.
//
// Two kinds of holder. An operation (deploy, rollback, config change, delete, domains) waits
// for another or fails naming it. The daemon's own maintenance (the reconcile restarting a
// release that went down) always gives way: an operation that finds it holding the lock
// cancels it and takes the lock once it has let go, so a release that keeps crashing never
// keeps an operator from rolling back.
import { LockHeld } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Store } from '../../state/store.js';

/** How long an operation waits for cancelled maintenance to let go, beyond its own lock timeout. */
const MAINTENANCE_YIELD_MS = 15_000;
const POLL_MS = 50;

export interface Holder {
  kind: 'operation' | 'maintenance';
  /** The deploy's id (negative for operations without a deploy row: delete, domains). */
  deployId: number;
  /** What it does, for the error another caller gets: "deploy #12", "apps delete". */
  what: string;
  actor: string;
  since: string;
  controller: AbortController;
}

export class AppLocks {
  private readonly held = new Map<string, Holder>();

  constructor(private readonly store: Store, private readonly boot: string, private readonly log: Logger) {}

  holder(app: string): Holder | undefined { return this.held.get(app); }

  /** Takes the app's lock for an operation: waits up to waitMs for another operation, and
   *  cancels maintenance; fails naming the holder. */
  async acquire(app: string, op: { deployId: number; what: string; actor: string }, waitMs: number): Promise<Holder> {
    let deadline = Date.now() + waitMs;
    let yielding: Holder | null = null;
    for (;;) {
      const h = this.held.get(app);
      if (!h && this.store.tryLock({ app, deploy_id: op.deployId, actor: op.actor, daemon_boot: this.boot })) {
        const mine: Holder = { kind: 'operation', ...op, since: new Date().toISOString(), controller: new AbortController() };
        this.held.set(app, mine);
        return mine;
      }
      if (h?.kind === 'maintenance' && yielding !== h) {
        yielding = h;
        this.log.info({ app, maintenance: h.what, by: op.what }, 'cancelling maintenance for an operation');
        h.controller.abort();
        deadline = Math.max(deadline, Date.now() + MAINTENANCE_YIELD_MS);
      }
      const row = this.store.getLock(app);
      if (!h && row && row.daemon_boot !== this.boot) {
        // Left by a daemon that died: recovery owns it, but never let it block forever.
        this.log.warn({ app, holder: row }, 'recovering a lock left by a previous daemon');
        this.store.unlock(app, row.deploy_id);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new LockHeld(app, h ? { what: h.what, actor: h.actor, startedAt: h.since }
          : { what: row ? `deploy #${row.deploy_id}` : 'another operation', actor: row?.actor ?? 'unknown', startedAt: row?.acquired_at ?? 'unknown' });
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  release(app: string, deployId: number): void {
    const h = this.held.get(app);
    if (h?.kind === 'operation' && h.deployId === deployId) this.held.delete(app);
    this.store.unlock(app, deployId);
  }

  /** Runs maintenance under the app's lock if nobody holds it (else returns undefined). The
   *  signal tells fn that an operation wants the app: it should stop soon, changing nothing more. */
  async whileFree<T>(app: string, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    if (this.held.has(app) || this.store.getLock(app)) return undefined;
    const mine: Holder = { kind: 'maintenance', deployId: 0, what, actor: 'berth', since: new Date().toISOString(), controller: new AbortController() };
    this.held.set(app, mine);
    try {
      return await fn(mine.controller.signal);
    } finally {
      if (this.held.get(app) === mine) this.held.delete(app);
    }
  }
}
