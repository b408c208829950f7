// The one place that starts host programs: always an argv array, never a shell.
import { execFile, spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { CommandFailed } from '../lib/errors.js';
import { LineSplitter } from '../lib/lines.js';

export interface RunOptions { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; input?: string }

export function run(argv: string[], opts: RunOptions = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(argv[0]!, argv.slice(1), {
      timeout: opts.timeoutMs ?? 120_000, env: opts.env ?? process.env, cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024,
    }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException & { code?: unknown }).code;
        reject(new CommandFailed(argv, typeof code === 'number' ? code : null, `${stderr || err.message}`));
      } else resolve({ stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** The program's path when it can be found on PATH. */
export function which(program: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = join(dir, program);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/** Starts a long-lived background process that outlives us, output appended to a log file. */
export function spawnDetached(argv: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): number {
  const fd = openSync(logFile, 'a', 0o640);
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env });
  child.unref();
  return child.pid ?? -1;
}

/** Runs a program and hands over its stdout as a stream; `done` settles when it exits. */
export function streamFrom(argv: string[], opts: { cwd?: string } = {}): { stdout: NodeJS.ReadableStream; done: Promise<void> } {
  const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => reject(new CommandFailed(argv, null, e.message)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new CommandFailed(argv, code, stderr))));
  });
  return { stdout: child.stdout!, done };
}

export interface LinesOptions { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number; signal?: AbortSignal }

/** Runs a program and hands over its output (stdout and stderr) line by line as it comes;
 *  resolves with its exit status. The signal or the deadline ends it with SIGTERM, then SIGKILL. */
export interface LinesResult { code: number | null; cancelled: boolean; timedOut: boolean }

export function runLines(argv: string[], onLine: (line: string) => void, o: LinesOptions): Promise<LinesResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: o.cwd, env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let cancelled = false;
    let timedOut = false;
    const stop = () => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    };
    const onAbort = () => { cancelled = true; stop(); };
    const timer = setTimeout(() => { timedOut = true; stop(); }, o.timeoutMs);
    if (o.signal?.aborted) onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    for (const s of [child.stdout!, child.stderr!]) {
      const lines = new LineSplitter();
      s.setEncoding('utf8');
      s.on('data', (d: string) => lines.push(d, true).forEach(onLine));
      s.on('end', () => lines.end().forEach(onLine));
    }
    child.on('error', (e) => { clearTimeout(timer); reject(new CommandFailed(argv, null, e.message)); });
    child.on('close', (code) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      resolve({ code, cancelled, timedOut });
    });
  });
}
