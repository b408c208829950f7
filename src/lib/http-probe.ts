// One HTTP GET, for health: the status, or why there was none (an error code). A release's
// container is probed on its address; an upstream app's service outside berth at its URL.
import { createRequire } from 'node:module';
import type * as Https from 'node:https';
import { request } from './node-http.js';

type Send = typeof request;

function probeWith(send: Send, o: { host: string; port: number; path: string; timeoutMs: number; servername?: string }): Promise<number | string> {
  return new Promise((resolve) => {
    const req = send({ host: o.host, port: o.port, path: o.path, method: 'GET', timeout: o.timeoutMs, headers: { 'user-agent': 'berth-health' },
      ...(o.servername ? { servername: o.servername } : {}) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

export const httpProbe = (host: string, port: number, path: string, timeoutMs: number) => probeWith(request, { host, port, path, timeoutMs });

/** A GET of `path` at an upstream's URL (http or https; node:https is loaded only for the latter). */
export function probeUrl(url: string, path: string, timeoutMs: number): Promise<number | string> {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  const send = tls ? (createRequire(import.meta.url)('node:https') as typeof Https).request as unknown as Send : request;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return probeWith(send, { host, port: Number(u.port || (tls ? 443 : 80)), path, timeoutMs, ...(tls ? { servername: host } : {}) });
}
