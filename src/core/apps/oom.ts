// Kills for memory, recorded where an operator looks: each one in the audit (with the limit it
// passed), in berth status while it concerns the live release, and in a deploy's error.
import { asBerthError } from '../../lib/errors.js';
import type { OomEvent } from '../../runtime/types.js';
import type { Ctx } from '../context.js';
import { limitsOf } from '../deploy/processes.js';

const RETRY_MS = 2000;

export function recordOom(ctx: Ctx, e: OomEvent): void {
  const release = ctx.store.releasesOf(e.app).find((r) => `v${r.seq}` === e.release);
  const memoryMb = release ? limitsOf(release, e.process).memory_mb : null; // without decrypting its env
  const detail = { release: e.release, process: e.process, container: e.name, one_off: e.oneOff, memory_mb: memoryMb };
  ctx.store.audit({ actor: 'berth', action: 'app.oom', app: e.app, result: 'killed', detail });
  ctx.log.warn({ app: e.app, ...detail }, 'an app process was killed for passing its memory limit');
}

/** Watches the runtime's kills for memory while the daemon runs; a stream that ends (the engine
 *  restarted) is opened again. */
export async function watchOoms(ctx: Ctx, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await ctx.runtime.watchOom((e) => recordOom(ctx, e), signal)
      .catch((e) => ctx.log.warn({ err: asBerthError(e).message }, 'watching for kills for memory failed; watching again'));
    if (!signal.aborted) await new Promise((r) => setTimeout(r, RETRY_MS));
  }
}

/** The live release's last kill for memory, if it had one. */
export function lastOomOf(ctx: Ctx, app: string, liveRelease: string | null): { at: string; release: string; memory_mb: number | null } | null {
  const row = liveRelease ? ctx.store.lastAudit(app, 'app.oom') : undefined;
  const d = row?.detail ? JSON.parse(row.detail) as { release: string; memory_mb: number | null } : null;
  return row && d && d.release === liveRelease ? { at: row.at, release: d.release, memory_mb: d.memory_mb } : null;
}
