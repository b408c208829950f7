// One deploy per app at a time. The lock lives in memory (with the deploy's abort switch) and
// in the state file, so a daemon that crashed leaves a lock the next boot recognises as stale.
import { LockHeld } from '../../lib/errors.js';
import type { Ctx } from '../context.js';

export interface Running { deployId: number; controller: AbortController }
const running = new Map<string, Running>();

export function runningDeploy(app: string): Running | undefined { return running.get(app); }

export async function acquire(ctx: Ctx, app: string, deployId: number, actor: string, waitMs: number): Promise<Running> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (!running.has(app) && ctx.store.tryLock({ app, deploy_id: deployId, actor, daemon_boot: ctx.boot })) {
      const r = { deployId, controller: new AbortController() };
      running.set(app, r);
      return r;
    }
    const holder = ctx.store.getLock(app);
    if (holder && holder.daemon_boot !== ctx.boot && !running.has(app)) {
      // Left by a daemon that died: recovery owns it, but never let it block forever.
      ctx.log.warn({ app, holder }, 'recovering a lock left by a previous daemon');
      ctx.store.unlock(app, holder.deploy_id);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new LockHeld(app, { deployId: holder?.deploy_id ?? -1, actor: holder?.actor ?? 'unknown', startedAt: holder?.acquired_at ?? 'unknown' });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function release(ctx: Ctx, app: string, deployId: number): void {
  if (running.get(app)?.deployId === deployId) running.delete(app);
  ctx.store.unlock(app, deployId);
}

/** Runs fn under the app's lock, for short maintenance work. Returns undefined if busy. */
export async function withLockIfFree<T>(ctx: Ctx, app: string, fn: () => Promise<T>): Promise<T | undefined> {
  if (running.has(app) || ctx.store.getLock(app)) return undefined;
  const r = { deployId: 0, controller: new AbortController() };
  running.set(app, r);
  try {
    return await fn();
  } finally {
    if (running.get(app) === r) running.delete(app);
  }
}
