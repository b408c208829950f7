// The Load interface, with the load generator in a child process (see load-worker.ts).
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadTarget } from '../../test/helpers/load.js';

export class RemoteLoad {
  private child: ChildProcess;
  private final: Promise<LoadResult> | undefined;
  readonly result: LoadResult = { total: 0, failed: 0, failures: {}, latencies: [], bodies: {} };

  constructor(t: LoadTarget, concurrency: number) {
    const worker = join(dirname(fileURLToPath(import.meta.url)), 'load-worker.js');
    this.child = fork(worker, [JSON.stringify({ port: t.port, host: t.host, ca: t.ca.toString(), concurrency, path: t.path })], { execArgv: [] });
    this.child.on('message', (m: { type: string; total?: number; failed?: number; bodies?: Record<string, number> }) => {
      if (m.type === 'progress') Object.assign(this.result, { total: m.total, failed: m.failed, bodies: m.bodies });
    });
  }

  stop(): Promise<LoadResult> {
    this.final ??= new Promise<LoadResult>((resolve, reject) => {
      this.child.on('message', (m: { type: string; result?: LoadResult }) => {
        if (m.type === 'result') { Object.assign(this.result, m.result); resolve(m.result!); }
      });
      this.child.on('exit', (code) => { if (code !== 0) reject(new Error(`load worker exited with ${code}`)); });
      this.child.send({ type: 'stop' });
    });
    return this.final;
  }
}
