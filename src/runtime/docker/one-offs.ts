// One-off containers that outlive a call: `berth run` and cron runs. Each is created and
// started, then waited for (its output followed as it comes) and removed; a cron run is found
// again by its label after a daemon restart and waited for by the next daemon.
import { BerthError } from '../../lib/errors.js';
import type { Duplex } from 'node:stream';
import type { AttachOptions, Attached, OneOffKind, OneOffOptions, OneOffRef, WaitOptions } from '../types.js';
import { demux, type EngineApi, type EngineError, isNotFound, isNotModified, wholeFrames } from './engine-api.js';
import { LABEL, type Names } from './specs.js';

/** What a waiter keeps of a one-off's output: its end, for the caller's log tail. */
const KEPT_OUTPUT = 64 * 1024;
/** How long the log stream may lag behind the exit before the output counts as complete. */
const LOG_DRAIN_MS = 2000;

interface Listed { Id: string; Names: string[]; State: string; Labels: Record<string, string> }

export async function createAndStart(api: EngineApi, name: string, body: object): Promise<string> {
  const { Id: id } = await api.json<{ Id: string }>('POST', '/containers/create', `create ${name}`, { query: { name }, body });
  try {
    await api.buffer('POST', `/containers/${id}/start`, `start ${name}`).catch((e) => { if (!isNotModified(e)) throw e; });
  } catch (e) {
    await removeContainer(api, id, name);
    throw e;
  }
  return id;
}

/** Created, attached, then started (attached first: its first output is not lost), and sized. */
export async function startAttached(api: EngineApi, { name, app }: { name: string; app: string }, body: object,
  o: OneOffOptions & AttachOptions): Promise<Attached> {
  const { Id: id } = await api.json<{ Id: string }>('POST', '/containers/create', `create ${name}`, { query: { name }, body });
  const ref = { id, name, app, kind: o.kind, key: o.key, running: true };
  let io: Duplex | undefined;
  try {
    io = await api.upgrade(`/containers/${id}/attach`, `attach ${name}`, { stream: true, stdin: o.stdin, stdout: true, stderr: true });
    await api.buffer('POST', `/containers/${id}/start`, `start ${name}`);
    const resize = (rows: number, cols: number) => api.buffer('POST', `/containers/${id}/resize`, `resize ${name}`, { query: { h: rows, w: cols } })
      .then(() => undefined, (e) => { if (!isNotFound(e) && (e as EngineError).statusCode !== 409) throw e; }); // exited meanwhile
    if (o.tty && o.rows && o.cols) await resize(o.rows, o.cols);
    return { ref, io, resize };
  } catch (e) {
    io?.destroy();
    await removeContainer(api, id, name);
    throw e;
  }
}

export async function listOneOffs(api: EngineApi, names: Names, kind: OneOffKind): Promise<OneOffRef[]> {
  const cs = await api.json<Listed[]>('GET', '/containers/json', 'list containers',
    { query: { all: true, filters: JSON.stringify({ label: [`${LABEL.instance}=${names.instance}`, `${LABEL.role}=${kind}`] }) } });
  return cs.map((c) => ({
    id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), app: c.Labels[LABEL.app] ?? '', kind, key: c.Labels[LABEL.key] ?? '',
    running: c.State === 'running',
  }));
}

/** Follows the output while waiting for the exit; removes the container however it ends. */
export async function waitOneOff(api: EngineApi, ref: Pick<OneOffRef, 'id' | 'name'>, o: WaitOptions): Promise<{ exitCode: number; output: string }> {
  let kept = '';
  const keep = (s: string) => {
    kept = (kept + s).slice(-KEPT_OUTPUT);
    o.onOutput?.(s);
  };
  await startIfNeverStarted(api, ref);
  const following = new AbortController();
  const logs = followOutput(api, ref, keep, following.signal);
  try {
    const res = await api.json<{ StatusCode: number }>('POST', `/containers/${ref.id}/wait`, `wait ${ref.name}`, { timeoutMs: o.timeoutMs, signal: o.signal })
      .catch((e: BerthError) => {
        if (e.code !== 'timeout') throw e;
        throw new BerthError('timeout', `${ref.name} did not finish within ${Math.round(o.timeoutMs / 1000)}s; it was stopped`, undefined,
          { timeoutMs: o.timeoutMs, output: kept.slice(-4096) });
      });
    // the log stream ends by itself once the container is gone: wait for its last lines, briefly
    const drained = await Promise.race([logs.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), LOG_DRAIN_MS).unref())]);
    if (!drained) following.abort();
    await logs;
    // a followed log never delivers a last line without its newline (Docker 28, measured): the log read after the exit has it
    const last = demux(await api.buffer('GET', `/containers/${ref.id}/logs`, `logs ${ref.name}`, { query: { stdout: true, stderr: true, tail: 5 } }));
    const rest = unseenEnd(kept, last);
    if (rest) keep(rest);
    return { exitCode: res.StatusCode, output: kept };
  } catch (e) {
    if (e instanceof BerthError && e.details && !e.details.output) e.details.output = kept.slice(-4096);
    throw e;
  } finally {
    following.abort();
    await logs;
    await removeContainer(api, ref.id, ref.name);
  }
}

/** A starter that died between create and start (a daemon killed) left a container that never
 *  ran: Docker's wait would answer it at once with exit 0 and no output, a success that never was. */
async function startIfNeverStarted(api: EngineApi, ref: Pick<OneOffRef, 'id' | 'name'>): Promise<void> {
  const c = await api.json<{ State: { Status: string } }>('GET', `/containers/${ref.id}/json`, `inspect ${ref.name}`);
  if (c.State.Status !== 'created') return;
  await api.buffer('POST', `/containers/${ref.id}/start`, `start ${ref.name}`).catch((e) => { if (!isNotModified(e)) throw e; });
}

/** What the end of a log adds to the output seen so far (pure): `last` from the longest head of it
 *  that `seen` already ends with. */
export function unseenEnd(seen: string, last: string): string {
  for (let k = Math.min(last.length, seen.length); k > 0; k--) if (seen.endsWith(last.slice(0, k))) return last.slice(k);
  return last;
}

/** The container's whole output, as it comes, until it exits or the signal aborts. A broken
 *  log stream loses output, never the run: its failure is said in the output itself. */
async function followOutput(api: EngineApi, ref: Pick<OneOffRef, 'id' | 'name'>, onChunk: (s: string) => void, signal: AbortSignal): Promise<void> {
  try {
    const res = await api.open('GET', `/containers/${ref.id}/logs`, `logs ${ref.name}`,
      { query: { stdout: true, stderr: true, follow: true }, timeoutMs: 0, signal });
    const tty = res.headers['content-type'] === 'application/vnd.docker.raw-stream';
    let pending: Buffer = Buffer.alloc(0);
    for await (const chunk of res) {
      if (tty) { onChunk((chunk as Buffer).toString('utf8')); continue; }
      const f = wholeFrames(Buffer.concat([pending, chunk as Buffer]));
      if (f.whole) onChunk(demux(f.whole));
      pending = f.rest;
    }
  } catch (e) {
    if (signal.aborted || isNotFound(e)) return;
    onChunk(`\n(berth lost the output of ${ref.name}: ${(e as Error).message})\n`);
  }
}

export async function removeContainer(api: EngineApi, id: string, name: string): Promise<void> {
  await api.buffer('DELETE', `/containers/${id}`, `remove ${name}`, { query: { force: true } }).catch((e) => { if (!isNotFound(e)) throw e; });
}
