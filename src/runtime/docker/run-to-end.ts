// A container run to completion: one-off release commands and service tasks.
import { BerthError } from '../../lib/errors.js';
import type { RunOptions } from '../types.js';
import { demux, type EngineApi, isNotFound, isNotModified } from './engine-api.js';

/** Creates the container, waits until it exits (or the deadline, or the signal), returns its
 *  exit code and last output, and always removes it. */
export async function runToEnd(api: EngineApi, name: string, body: object, opts: RunOptions): Promise<{ exitCode: number; output: string }> {
  const { Id: id } = await api.json<{ Id: string }>('POST', '/containers/create', `create ${name}`, { query: { name }, body });
  let outcome: { exitCode: number; output: string } | undefined;
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
    return outcome;
  } finally {
    // also when cancelled or out of time: the command must not run on unseen. A failure to
    // remove it is said, but never replaces the command's own result or error.
    await api.buffer('DELETE', `/containers/${id}`, `remove ${name}`, { query: { force: true } }).catch((e: BerthError) => {
      if (isNotFound(e)) return;
      const note = `\n(berth could not remove the container ${name}: ${e.message}; remove it with docker rm -f ${name})\n`;
      if (outcome) outcome.output += note;
    });
  }
}
