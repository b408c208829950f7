// A small client for Caddy's admin API on its unix socket. Every call has a deadline.
import { request } from 'node:http';
import { BerthError } from '../../lib/errors.js';
import { ADMIN_ORIGIN } from './config.js';

const ADMIN_TIMEOUT_MS = 15_000;

export class CaddyAdmin {
  constructor(readonly socketPath: string) {}

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
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
      req.on('error', (e) => reject(e instanceof BerthError ? e
        : new BerthError('unavailable', `caddy admin API unreachable at ${this.socketPath}: ${e.message}`, 'check the proxy with: berth status; repair it with: berth up')));
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
