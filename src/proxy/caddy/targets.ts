// The Caddy handlers that pass a request on to where a route sends it: an app's process (a name
// resolved through Docker's DNS), a static directory, or a service outside berth.
import type { RouteTarget } from '../types.js';
import type { BaseInput } from './config.js';
import { staticHandlers } from './static.js';

export type TargetOptions = Pick<BaseInput, 'refreshMs' | 'streamCloseDelayMs'>;

// A WebSocket or SSE stream opened under a config that a later change replaced stays open
// this long (Caddy >= 2.7), instead of being closed at once (caddyserver/caddy#3143).
const streamCloseDelay = (o: TargetOptions) => `${o.streamCloseDelayMs}ms`;

// Several copies of a process (berth scale APP web=3): one name per copy, each renamed onto its
// own copy at a switch exactly as a single copy is, so a deploy still changes no config; the
// `multi` source joins their lookups and skips one that fails (a copy being switched, or one
// that died: a stopped container leaves Docker's DNS). Only the number of names is config,
// changed by `berth scale` alone. Measured on Caddy 2.11.4, 8 keep-alive clients (~2,300 req/s):
//   - 3 names: 0 failed of 19,346, spread 6,531/6,376/6,439 (round robin, Caddy's default);
//   - copy 2 replaced by a rename 10 times: 0 failed of 25,761;
//   - 3 names and 17 that resolve to nothing (a fixed MAX_REPLICAS list, so that scaling would
//     change no config): 8 requests in 8 s, all timed out. Caddy caches no failed lookup and
//     holds one process-wide lock while it looks a name up (reverseproxy/upstreams.go), and
//     Docker's DNS sends a name it does not know on to the host's resolvers: so a list of
//     names kept for copies that do not run is ruled out;
//   - 20 config loads under the same load: 83 of 23,014 failed ("socket hang up": Caddy closes
//     idle client keep-alive connections at every load). That is what one `berth scale` of web
//     costs, for every app the proxy serves; a deploy costs none.
// Docker network aliases (one name, every copy) were not taken: an alias is fixed while a
// container is on a network, so a parked release could only leave the name by leaving the
// network, which cuts its connections (the hang measured for moving networks, README).
export function processHandler(upstream: string, port: number, o: TargetOptions, upstreams: string[] = [upstream]) {
  const a = (name: string) => ({ source: 'a', name, port: String(port), refresh: `${o.refreshMs}ms` });
  return {
    handler: 'reverse_proxy',
    dynamic_upstreams: upstreams.length > 1 ? { source: 'multi', sources: upstreams.map(a) } : a(upstream),
    // A copy that stopped answering (killed: its address stays in the last lookup for up to one
    // refresh) is skipped for a moment after one refused connection, instead of being tried
    // again by every request. Only failed connections count: an app's own 5xx answers never
    // take a copy out (a bug on one page would take them all). No probes: nothing to pay at rest.
    ...(upstreams.length > 1 ? { health_checks: { passive: { fail_duration: '5s', max_fails: 1 } } } : {}),
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
    case 'process': return [processHandler(t.upstream, t.port, o, t.upstreams)];
    case 'static': return staticHandlers(t.dir, t.spa);
    case 'external': return [externalHandler(t.url, o)];
  }
}
