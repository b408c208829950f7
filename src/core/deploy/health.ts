// The health gate: a release gets traffic only after its HTTP health check answers 2xx/3xx.
// It fails fast when the container exits, and never waits past its deadline. The probe itself
// is the runtime's: it knows where a unit answers.
import { BerthError } from '../../lib/errors.js';
import { logExcerpt } from '../../lib/log-excerpt.js';
import type { HealthCheck, Runtime, Unit } from '../../runtime/types.js';

const POLL_MS = 10; // a refused connection costs microseconds; each poll saved is a wait the deploy does not make
const INSPECT_EVERY_MS = 500;
const LOG_LINES = 20;

/** What the hint of a failed health check says serves meanwhile: true only when a release did. */
export function meanwhile(live: string | null): string {
  return live ? `${live} keeps serving` : 'the app has no release serving yet (this was its first deploy)';
}

/** A health check's answer that passes: a 2xx or 3xx status. */
export const passes = (answer: number | string) => typeof answer === 'number' && answer >= 200 && answer < 400;

/** Polls until the unit answers its health check. `serving` is said in the hint when it fails:
 *  what serves meanwhile (see meanwhile()). */
export async function waitHealthy(rt: Runtime, unit: Unit, check: HealthCheck, timeoutMs: number, signal: AbortSignal,
  serving: string): Promise<{ ms: number }> {
  const start = Date.now();
  let last: number | string = 'no answer yet';
  let inspected = 0;
  let attached = unit.attached;
  for (;;) {
    if (signal.aborted) throw new BerthError('aborted', 'aborted while waiting for the health check');
    // Look at the container itself now and then: a release that exited fails at once,
    // whatever its address does (a probe to a vanished address can hang until its timeout).
    if (Date.now() - inspected >= INSPECT_EVERY_MS || !attached) {
      inspected = Date.now();
      const now = await rt.inspect(unit.app, unit.process, unit.release);
      if (now?.oomKilled) {
        throw new BerthError('unhealthy', `release ${unit.release} was killed for passing its memory limit before it became healthy`,
          `raise the limit (berth apps limits ${unit.app} --memory 1g) or fix the leak, then deploy again; the previous release keeps serving`,
          { logs: (await rt.logs(now, LOG_LINES)).trim().split('\n').slice(-LOG_LINES) });
      }
      if (!now || !now.running) {
        const logs = now ? await rt.logs(now, LOG_LINES) : '';
        throw new BerthError('unhealthy', `release ${unit.release} exited${now?.exitCode != null ? ` with code ${now.exitCode}` : ''} before it became healthy`,
          `fix the app or its config, then deploy again; ${serving}`, { logs: logExcerpt(logs, LOG_LINES) });
      }
      attached = now.attached;
    }
    if (attached) {
      last = await rt.probe(unit, check);
      if (passes(last)) return { ms: Date.now() - start };
    }
    if (Date.now() - start > timeoutMs) {
      const logs = await rt.logs(unit, LOG_LINES);
      throw new BerthError('unhealthy',
        `release ${unit.release} did not pass its health check (GET ${check.path} on port ${check.port}) within ${timeoutMs / 1000}s; last answer: ${last}`,
        `check that the app listens on $PORT and answers the health path, or raise the timeout with --timeout; ${serving}`,
        { logs: logExcerpt(logs, LOG_LINES), last });
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
