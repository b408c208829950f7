// Pulling images: the request's credentials header, and what a failed pull means. Docker gives
// a failure only as text (from the registry, or from Go's network stack), so it is classified
// by the phrases Docker Engine 20.10 to 29 use for each case.
import { BerthError } from '../../lib/errors.js';
import { parseImageRef, pullParams } from '../../lib/image-ref.js';
import type { Progress, PullFailure, RegistryAuth } from '../types.js';
import { type EngineApi, progressText } from './engine-api.js';

export { pullHint } from '../pull-failure.js';

/** X-Registry-Auth: URL-safe base64 *with* padding (Go's base64.URLEncoding; Node's base64url drops it). */
export const registryAuthHeader = (auth: RegistryAuth) => Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

const RULES: [PullFailure, RegExp][] = [
  ['rate_limited', /toomanyrequests|too many requests|rate limit/i],
  ['unauthorized', /unauthorized|authentication required|no basic auth credentials|denied: requested access|incorrect username or password/i],
  ['not_found', /manifest unknown|not found|repository does not exist|no such image|name unknown|invalid reference format/i],
  // before "offline": a lookup or dial that timed out (i/o timeout) may work a moment later
  ['timeout', /timeout|timed out|deadline exceeded|did not answer within|temporary failure/i],
  // Go's dialer when nothing answers: the name does not resolve, no route, refused, no network
  ['offline', /no such host|server misbehaving|network is unreachable|connection refused|no route to host/i],
];

/** Why a pull failed, from the engine's message (pure). */
export function classifyPullError(message: string): PullFailure {
  return RULES.find(([, re]) => re.test(message))?.[0] ?? 'other';
}


/** Pulls an image (POST /images/create), its progress lines shown; the engine's failure as it is. */
export async function pullImage(api: EngineApi, ref: string,
  o: { progress: Progress; auth?: RegistryAuth; signal?: AbortSignal; timeoutMs?: number }): Promise<void> {
  const parsed = parseImageRef(ref);
  if (!parsed) throw new BerthError('invalid', `${JSON.stringify(ref)} is not an image reference`);
  o.progress(`pulling ${ref}`);
  await api.progress('POST', '/images/create', `pull ${ref}`, {
    query: pullParams(parsed), timeoutMs: o.timeoutMs ?? 15 * 60_000, signal: o.signal,
    headers: o.auth ? { 'X-Registry-Auth': registryAuthHeader(o.auth) } : {},
  }, (ev) => { const line = progressText(ev); if (line) o.progress(line); });
}
