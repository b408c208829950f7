// A small client for Caddy's admin API on its unix socket. Every call has a deadline.
import { request } from '../../lib/node-http.js';
import { BerthError } from '../../lib/errors.js';
import { ADMIN_ORIGIN } from './config.js';

const ADMIN_TIMEOUT_MS = 15_000;
const RETRIES = 5;
const RETRYABLE = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ENOENT']);

export class CaddyAdmin {
  constructor(readonly socketPath: string) {}

  /** One request; retried when the connection fails before an answer (Caddy swaps its admin
   *  server while it applies a config, so a request right after a change can meet a closed socket). */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(method, path, body);
      } catch (e) {
        const code = (e as BerthError).details?.errno;
        if (attempt >= RETRIES || !RETRYABLE.has(String(code))) throw e;
        await new Promise((r) => setTimeout(r, 50 * attempt));
      }
    }
  }

  private once<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request({
        socketPath: this.socketPath, method, path, timeout: ADMIN_TIMEOUT_MS,
        headers: { host: ADMIN_ORIGIN, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { text += d; });
        res.on('end', () => {
          let parsed: unknown = text;
          try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
      });
      req.on('timeout', () => req.destroy(new BerthError('timeout', `caddy: ${method} ${path} did not answer within ${ADMIN_TIMEOUT_MS / 1000}s`)));
      req.on('error', (e: NodeJS.ErrnoException) => reject(e instanceof BerthError ? e
        : new BerthError('unavailable', `caddy admin API unreachable at ${this.socketPath}: ${e.message}`,
          'check the proxy with: berth status; repair it with: berth up', { errno: e.code })));
      req.end(payload);
    });
  }

  /** Like call, but any non-2xx answer is an error carrying Caddy's message. */
  async ok<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.call<T>(method, path, body);
    if (r.status >= 300) {
      const msg = (r.body as { error?: string } | null)?.error ?? JSON.stringify(r.body);
      throw new BerthError('command_failed', `caddy refused ${method} ${path}: ${msg}`);
    }
    return r.body;
  }
}
