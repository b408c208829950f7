// The health gate: a release gets traffic only after its HTTP health check answers 2xx/3xx.
// It fails fast when the container exits, and never waits past its deadline.
import { request } from 'node:http';
import { BerthError } from '../../lib/errors.js';
import type { Runtime, Unit } from '../../runtime/types.js';

const POLL_MS = 25;
const INSPECT_EVERY_MS = 500;
const REQUEST_TIMEOUT_MS = 1000;
const LOG_LINES = 20;

export function probe(host: string, port: number, path: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', timeout: timeoutMs, headers: { 'user-agent': 'berth-health' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

export async function waitHealthy(rt: Runtime, unit: Unit, path: string, port: number, timeoutMs: number, signal: AbortSignal): Promise<{ ms: number }> {
  const start = Date.now();
  let last: number | string = 'no answer yet';
  let ip = unit.ip;
  let inspected = 0;
  for (;;) {
    if (signal.aborted) throw new BerthError('aborted', 'deploy aborted while waiting for the health check');
    // Look at the container itself now and then: a release that exited fails at once,
    // whatever its address does (a probe to a vanished address can hang until its timeout).
    if (Date.now() - inspected >= INSPECT_EVERY_MS || !ip) {
      inspected = Date.now();
      const now = await rt.inspect(unit.app, unit.process, unit.release);
      if (!now || !now.running) {
        const logs = now ? await rt.logs(now, LOG_LINES) : '';
        throw new BerthError('unhealthy', `release ${unit.release} exited${now?.exitCode != null ? ` with code ${now.exitCode}` : ''} before it became healthy`,
          'fix the app or its config, then deploy again; the previous release keeps serving', { logs: logs.trim().split('\n').slice(-LOG_LINES) });
      }
      ip = now.ip;
    }
    if (ip) {
      last = await probe(ip, port, path);
      if (typeof last === 'number' && last >= 200 && last < 400) return { ms: Date.now() - start };
    }
    if (Date.now() - start > timeoutMs) {
      const logs = await rt.logs(unit, LOG_LINES);
      throw new BerthError('unhealthy', `release ${unit.release} did not pass its health check (GET ${path} on port ${port}) within ${timeoutMs / 1000}s; last answer: ${last}`,
        'check that the app listens on $PORT and answers the health path, or raise the timeout with --timeout; the previous release keeps serving',
        { logs: logs.trim().split('\n').slice(-LOG_LINES), last });
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
