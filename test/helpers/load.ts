// A small closed-loop HTTP(S) load generator for tests and benchmarks: N workers send
// requests back to back through one keep-alive agent, recording every failure and latency.
import { Agent, request } from 'node:https';

export interface LoadTarget { port: number; host: string; path?: string; ca: Buffer | string }
export interface LoadResult {
  total: number; failed: number; failures: Record<string, number>;
  latencies: { at: number; ms: number }[]; bodies: Record<string, number>;
}

export class Load {
  private stopped = false;
  private done: Promise<void>;
  readonly result: LoadResult = { total: 0, failed: 0, failures: {}, latencies: [], bodies: {} };

  constructor(t: LoadTarget, concurrency = 8, readonly bodyKey: (b: string) => string = (b) => b.trim().split(' ').pop() ?? '') {
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: t.ca, servername: t.host });
    const one = () => new Promise<void>((resolve) => {
      const start = performance.now();
      const req = request({ host: '127.0.0.1', port: t.port, path: t.path ?? '/', agent, servername: t.host, headers: { host: t.host }, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { body += d; });
        res.on('end', () => {
          this.result.total++;
          this.result.latencies.push({ at: Date.now(), ms: performance.now() - start });
          if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) >= 300) this.fail(`status ${res.statusCode}: ${body.trim().slice(0, 80)}`);
          else { const k = this.bodyKey(body); this.result.bodies[k] = (this.result.bodies[k] ?? 0) + 1; }
          resolve();
        });
        res.on('error', (e) => { this.result.total++; this.fail(e.message); resolve(); });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => { this.result.total++; this.fail(e.message); resolve(); });
      req.end();
    });
    const worker = async () => { while (!this.stopped) await one(); };
    this.done = Promise.all(Array.from({ length: concurrency }, worker)).then(() => agent.destroy());
  }

  private fail(reason: string) {
    this.result.failed++;
    this.result.failures[reason] = (this.result.failures[reason] ?? 0) + 1;
  }

  async stop(): Promise<LoadResult> {
    this.stopped = true;
    await this.done;
    return this.result;
  }
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
