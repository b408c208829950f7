// The Caddy handlers that pass a request on to where a route sends it: an app's process (a name
// resolved through Docker's DNS), a static directory, or a service outside berth.
import type { RouteTarget } from '../types.js';
import type { BaseInput } from './config.js';
import { staticHandlers } from './static.js';

export type TargetOptions = Pick<BaseInput, 'refreshMs' | 'streamCloseDelayMs'>;

// A WebSocket or SSE stream opened under a config that a later change replaced stays open
// this long (Caddy >= 2.7), instead of being closed at once (caddyserver/caddy#3143).
const streamCloseDelay = (o: TargetOptions) => `${o.streamCloseDelayMs}ms`;

export function processHandler(upstream: string, port: number, o: TargetOptions) {
  return {
    handler: 'reverse_proxy',
    dynamic_upstreams: { source: 'a', name: upstream, port: String(port), refresh: `${o.refreshMs}ms` },
    // While a switch renames containers the name may briefly resolve to nothing, and a
    // retired release refuses connections: retry for a moment instead of answering 502.
    load_balancing: { try_duration: '5s', try_interval: '50ms' },
    stream_close_delay: streamCloseDelay(o),
  };
}

/** Where an external URL is dialled, and the name its TLS certificate must carry. */
export function externalDial(url: string): { dial: string; tls: boolean; serverName: string } {
  const u = new URL(url);
  const tls = u.protocol === 'https:';
  if (!tls && u.protocol !== 'http:') throw new Error(`${url}: an external upstream is http:// or https://`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = u.port || (tls ? '443' : '80');
  return { dial: u.hostname.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`, tls, serverName: host };
}

/** A service outside berth. The client's Host header is passed on unchanged (Caddy's default):
 *  the service answers for the app's own domain, as the Caddy of seed 000 forwarded it to a
 *  Tailscale host. A service that wants its own name (a SaaS behind a shared address) does not
 *  fit this; an https upstream's certificate is still checked against the URL's host (SNI). */
export function externalHandler(url: string, o: TargetOptions) {
  const d = externalDial(url);
  return {
    handler: 'reverse_proxy',
    upstreams: [{ dial: d.dial }],
    ...(d.tls ? { transport: { protocol: 'http', tls: { server_name: d.serverName } } } : {}),
    stream_close_delay: streamCloseDelay(o),
  };
}

export function targetHandlers(t: RouteTarget, o: TargetOptions): object[] {
  switch (t.kind) {
    case 'process': return [processHandler(t.upstream, t.port, o)];
    case 'static': return staticHandlers(t.dir, t.spa);
    case 'external': return [externalHandler(t.url, o)];
  }
}
