// A container run to completion: one-off release commands and service tasks.
import { asBerthError, BerthError } from '../../lib/errors.js';
import type { RunOptions } from '../types.js';
import { demux, type EngineApi, isNotFound, isNotModified } from './engine-api.js';

/** Creates the container, waits until it exits (or the deadline, or the signal), returns its
 *  exit code and last output, and always removes it. */
export async function runToEnd(api: EngineApi, name: string, body: object, opts: RunOptions): Promise<{ exitCode: number; output: string }> {
  const { Id: id } = await api.json<{ Id: string }>('POST', '/containers/create', `create ${name}`, { query: { name }, body });
  // Removed whatever happens (cancelled, out of time: the command must not run on unseen). A
  // failure to remove it is said with the command's result or error, never instead of it.
  const remove = () => api.buffer('DELETE', `/containers/${id}`, `remove ${name}`, { query: { force: true } }).then(() => null, (e: BerthError) =>
    (isNotFound(e) ? null : `berth could not remove the container ${name}: ${e.message}; remove it with docker rm -f ${name}`));
  let outcome: { exitCode: number; output: string };
  try {
    await api.buffer('POST', `/containers/${id}/start`, `start ${name}`).catch((e) => { if (!isNotModified(e)) throw e; });
    const res = await api.json<{ StatusCode: number }>('POST', `/containers/${id}/wait`, `wait ${name}`, { timeoutMs: opts.timeoutMs, signal: opts.signal })
      .catch((e: BerthError) => {
        if (e.code === 'timeout') {
          throw new BerthError('timeout', `${name} did not finish within ${Math.round(opts.timeoutMs / 1000)}s`, undefined, { timeoutMs: opts.timeoutMs });
        }
        throw e;
      });
    const out = await api.buffer('GET', `/containers/${id}/logs`, `logs ${name}`, { query: { stdout: true, stderr: true, tail: opts.outputLines ?? 50 } });
    outcome = { exitCode: res.StatusCode, output: demux(out) };
  } catch (e) {
    const left = await remove();
    if (!left) throw e;
    const err = asBerthError(e);
    throw new BerthError(err.code, err.message, [err.hint, left].filter(Boolean).join('; '), { ...err.details, leftover: name });
  }
  const left = await remove();
  return left ? { ...outcome, output: `${outcome.output}\n(${left})\n` } : outcome;
}
