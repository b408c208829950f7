// A child process kept warm between requests: one JSON line in, one JSON line out (read with the
// one NDJSON reader, lib/ndjson.ts), one request at a time. It is started on the first request
// and told to exit (stdin closed) after a quiet spell, so its memory is held only while work
// comes in; starting it costs more than the work.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { CommandFailed } from '../lib/errors.js';
import { ndjson } from '../lib/ndjson.js';

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

export class LineWorker {
  private child: Child | null = null;
  private waiting: { resolve: (reply: unknown) => void; reject: (e: Error) => void } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private idle: NodeJS.Timeout | null = null;
  private stderr = '';

  constructor(private readonly argv: string[], private readonly idleMs: number) {}

  /** Sends one value and resolves with the reply; the process is killed if it takes too long. */
  request<T>(message: unknown, timeoutMs: number): Promise<T> {
    const run = this.queue.then(() => this.once(JSON.stringify(message), timeoutMs) as Promise<T>);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private start(): Child {
    const child = spawn(this.argv[0]!, this.argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    child.stderr.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-4000); });
    void this.readReplies(child);
    const gone = (why: string) => {
      if (this.child === child) this.child = null;
      const w = this.waiting;
      this.waiting = null;
      w?.reject(new CommandFailed(this.argv, child.exitCode, `${why}${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
    };
    child.on('error', (e) => gone(e.message));
    child.on('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    child.stdin.on('error', () => undefined); // a write to a dead child surfaces through 'exit'
    return child;
  }

  /** Each reply line settles the request waiting for it; a line that is not JSON kills the worker
   *  (its 'exit' fails that request with the worker's stderr). */
  private async readReplies(child: Child): Promise<void> {
    try {
      for await (const reply of ndjson<unknown>(child.stdout)) { const w = this.waiting; this.waiting = null; w?.resolve(reply); }
    } catch (e) {
      this.stderr += `\nnot a JSON reply: ${(e as Error).message}`;
      child.kill('SIGKILL');
    }
  }

  private once(line: string, timeoutMs: number): Promise<unknown> {
    if (this.idle) clearTimeout(this.idle);
    const child = this.child ??= this.start();
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      this.waiting = {
        resolve: (l) => { clearTimeout(timer); resolve(l); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      child.stdin.write(`${line}\n`);
    }).finally(() => {
      this.idle = setTimeout(() => { this.child?.stdin.end(); this.child = null; }, this.idleMs);
      this.idle.unref();
    });
  }
}
