// A compose healthcheck as berth's: berth checks health with an HTTP GET from outside the
// container, so a test that fetches a local URL (curl/wget http://localhost:8000/health) gives
// the path; any other command is reported, and the process is checked at the default path.
import type { Path } from '../issues.js';
import type { ComposeCtx } from './context.js';
import { HEALTHCHECK_KEYS } from './keys.js';
import { composeDuration, isMap } from './values.js';

const LOCAL_URL = /https?:\/\/(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::([0-9]+))?(\/[^\s'"|;&)]*)?/;

export interface ComposeHealth { path?: string; interval?: string; timeout?: string }

export function serviceHealth(raw: unknown, at: Path, port: number | null, ctx: ComposeCtx): ComposeHealth | undefined {
  if (!isMap(raw)) {
    ctx.findings.error(at, 'expected a mapping: {test, interval, timeout, ...}');
    return undefined;
  }
  for (const k of Object.keys(raw)) {
    if (!HEALTHCHECK_KEYS.includes(k)) ctx.findings.warn([...at, k], 'not a healthcheck key, ignored');
    else if (['retries', 'start_period', 'start_interval'].includes(k)) {
      ctx.findings.warn([...at, k], 'not supported, ignored: a new release gets the deploy\'s timeout (berth deploy --timeout) to become healthy');
    }
  }
  if (port === null) {
    ctx.findings.warn(at, 'ignored: berth checks the health of processes that take requests (this one has no port)');
    return undefined;
  }
  const test = Array.isArray(raw.test) ? raw.test.map(String) : typeof raw.test === 'string' ? ['CMD-SHELL', raw.test] : [];
  if (raw.disable === true || test[0] === 'NONE') {
    ctx.findings.warn(at, 'disabled here, but berth gates every release that takes requests on GET /health (set x-berth.processes.NAME.health)');
    return undefined;
  }
  const h: ComposeHealth = {};
  const url = LOCAL_URL.exec(test.slice(1).join(' '));
  if (url) {
    h.path = url[2] ?? '/';
    if (url[1] && Number(url[1]) !== port) ctx.findings.warn([...at, 'test'], `checks port ${url[1]}; berth checks the process's port, ${port}`);
  } else if (raw.test !== undefined) {
    ctx.findings.warn([...at, 'test'], 'a command check is not supported: berth checks health with GET /health on the process\'s port '
      + '(say another path in x-berth.processes.NAME.health)');
  }
  for (const k of ['interval', 'timeout'] as const) {
    if (raw[k] === undefined) continue;
    const ms = composeDuration(raw[k]);
    if (ms === null) ctx.findings.error([...at, k], `${JSON.stringify(raw[k])} is not a duration`, 'use e.g. 30s or 1m30s');
    else h[k] = `${ms}ms`;
  }
  return h;
}
