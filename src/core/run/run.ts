// `berth run`: a command in a one-off container of the app's live release, its output streamed
// to the caller as it comes, its exit code passed back. A caller that leaves (Ctrl-C) cancels
// it: the container is stopped and removed. The audit log has who ran what (argv is not
// secret; the env never leaves the release).
import { randomBytes } from 'node:crypto';
import { asBerthError } from '../../lib/errors.js';
import type { Attached, AttachOptions, OneOffRef, ProcessSpec } from '../../runtime/types.js';
import type { Ctx } from '../context.js';
import { relName } from '../deploy/engine.js';
import { runTarget } from './target.js';

export const DEFAULT_RUN_TIMEOUT_MS = 60 * 60_000;

export interface RunRequest { app: string; process?: string; cmd: string[]; timeoutMs?: number; actor: string }
export type RunEvent = { type: 'started'; container: string; release: string; process: string } | { type: 'output'; data: string };
export interface RunResult { exit_code: number; ms: number; release: string; process: string; container: string }

export function runCommand(ctx: Ctx, req: RunRequest, emit: (e: RunEvent) => void, signal: AbortSignal): Promise<RunResult> {
  return audited(ctx, req, { interactive: false }, async (spec, release) => {
    const ref = await ctx.runtime.startOneOff(spec, req.cmd, { kind: 'run', key: randomBytes(4).toString('hex') });
    emit({ type: 'started', container: ref.name, release, process: spec.process });
    return { ref, onOutput: (data: string) => emit({ type: 'output', data }) };
  }, signal);
}

/** `berth run -i/-t`: the same one-off, its stdin and output handed to the caller's connection
 *  (`attached`) instead of streamed as events. */
export function runAttached(ctx: Ctx, req: RunRequest & AttachOptions, attached: (a: Attached, started: RunEvent) => void,
  signal: AbortSignal): Promise<RunResult> {
  return audited(ctx, req, { interactive: true }, async (spec, release) => {
    const a = await ctx.runtime.startAttached(spec, req.cmd, { kind: 'run', key: randomBytes(4).toString('hex'), ...req });
    attached(a, { type: 'started', container: a.ref.name, release, process: spec.process });
    return { ref: a.ref };
  }, signal);
}

type Starter = (spec: ProcessSpec, release: string) => Promise<{ ref: OneOffRef; onOutput?: (data: string) => void }>;

async function audited(ctx: Ctx, req: RunRequest, how: { interactive: boolean }, start: Starter, signal: AbortSignal): Promise<RunResult> {
  const { spec, release } = runTarget(ctx, req.app, req.process);
  const t0 = Date.now();
  const detail = { argv: req.cmd, process: spec.process, release: relName(release), ...(how.interactive ? { interactive: true } : {}) };
  ctx.store.audit({ actor: req.actor, action: 'run', app: req.app, result: 'started', detail });
  try {
    const { ref, onOutput } = await start(spec, relName(release));
    const r = await ctx.runtime.waitOneOff(ref, { timeoutMs: req.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS, signal, onOutput });
    const result = { exit_code: r.exitCode, ms: Date.now() - t0, release: relName(release), process: spec.process, container: ref.name };
    ctx.store.audit({ actor: req.actor, action: 'run', app: req.app, result: `exit ${r.exitCode}`, detail: { ...detail, ms: result.ms } });
    return result;
  } catch (e) {
    const err = asBerthError(e);
    ctx.store.audit({ actor: req.actor, action: 'run', app: req.app, result: err.code, detail: { ...detail, error: err.message } });
    throw e;
  }
}
