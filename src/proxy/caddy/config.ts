// Caddy's configuration as JSON, built by pure functions. Each app has one route tagged
// "@id": "berth-app-NAME". The route's upstream is a name resolved through DNS every `refresh`,
// so a deploy or rollback changes what the name resolves to (a container rename) and never
// Caddy's configuration.
//
// Why not switch by PATCHing the route's upstream (one admin call, no rename, and what a Swarm
// service could use too)? Because any config change, a one-route PATCH as much as a /load, makes
// Caddy start a whole new config and Shutdown() the old servers, and Go's Shutdown closes every
// idle keep-alive connection at once: a request sent on one at that instant fails ("socket hang
// up"). Measured by `npm run bench -- switch` (22 routes, 20 switches each way under the same
// load): by rename 0 of 26,832 requests to the app and 0 of 18,542 to another app failed; by
// PATCH 81 of 19,413 and 36 of 11,802. So route changes are kept to what needs them (an app's
// creation, deletion, domains, port, routing table, redirects and headers), stream_close_delay
// keeps WebSockets and SSE streams open across those, and each such change drains the old
// server's keep-alive connections before it closes them (drainListener below).
//
// An app with a routing table (paths), static files or extra headers keeps one route: its
// handlers become a subroute (paths.ts), so that changing its table is still one route change.
// Its redirect domains get a second route, `berth-app-NAME-redirect` (redirects.ts), changed
// together with the first in one config change (proxy.ts). A static site's files switch by a
// symlink flip under the file server's root (static.ts), again without a config change.

import { dirname } from 'node:path';
import { domainsOf, idOf, type RouteInput, routeId } from '../types.js';
import { pathRoutes } from './paths.js';
import { headersHandler, redirectRoute } from './redirects.js';
import { processHandler } from './targets.js';

export const SERVER = 'berth';
export const ADMIN_ORIGIN = 'berth-admin';
export const FALLBACK_ID = 'berth-fallback';
export const DRAIN_ID = 'berth-drain';
export { routeId };

export interface BaseInput {
  adminSocket: string; // path inside the Caddy container
  httpPort: number;
  httpsPort: number;
  acmeEmail?: string;
  acmeCa?: string;
  acmeCaRoot?: string; // path inside the Caddy container
  refreshMs: number;
  /** How long a proxied stream outlives a config change (stream_close_delay), in ms. */
  streamCloseDelayMs: number;
  /** How long the old server drains its keep-alive connections at a config change (shutdown_delay), in ms. */
  drainMs: number;
}

export type RouteOptions = Pick<BaseInput, 'refreshMs' | 'streamCloseDelayMs' | 'httpsPort'>;

/** Names that cannot get a public certificate: served by Caddy's internal CA. */
export function isInternalDomain(d: string): boolean {
  return /(^|\.)(localhost|test|local|internal|home\.arpa|example|invalid)$/.test(d);
}

/** The app's own route: its domains, to upstream:port, or through its routing table. */
export function appRoute(r: RouteInput, o: RouteOptions) {
  const serve = r.paths ? [{ handler: 'subroute', routes: pathRoutes(r.paths, o) }] : [processHandler(r.upstream, r.port, o, r.upstreams)];
  return { '@id': idOf(r), match: [{ host: r.domains }], handle: [...headersHandler(r.headers), ...serve], terminal: true };
}

/** Every route one app (or platform service) has: its own, then its redirect route if any. */
export function appRoutes(r: RouteInput, o: RouteOptions): { '@id': string }[] {
  const redirect = redirectRoute(r, o.httpsPort);
  return redirect ? [appRoute(r, o), redirect] : [appRoute(r, o)];
}

/** What a request gets when no release answers (none deployed yet, or it is down): a 503 that
 *  says so, rather than the proxy's bare 502. */
export function errorRoutes() {
  return {
    routes: [{
      match: [{ expression: '{http.error.status_code} == 502 || {http.error.status_code} == 503' }],
      handle: [{ handler: 'static_response', status_code: 503, headers: { 'Content-Type': ['text/plain'] }, body: '{http.request.host}: no release is answering (none deployed yet, or it is down)\n' }],
    }],
  };
}

export function fallbackRoute() {
  return {
    '@id': FALLBACK_ID,
    handle: [{ handler: 'static_response', status_code: 404, headers: { 'Content-Type': ['text/plain'] }, body: 'no app is served at this address\n' }],
    terminal: true,
  };
}

export function tlsPolicies(b: BaseInput, domains: string[]) {
  const internal = [...new Set(domains.filter(isInternalDomain))].sort(); // the same list whatever order routes come in
  const acme: Record<string, unknown> = { module: 'acme' };
  if (b.acmeEmail) acme.email = b.acmeEmail;
  if (b.acmeCa) acme.ca = b.acmeCa;
  if (b.acmeCaRoot) acme.trusted_roots_pem_files = [b.acmeCaRoot];
  return [
    ...(internal.length ? [{ subjects: internal, issuers: [{ module: 'internal' }] }] : []),
    { issuers: [acme] },
  ];
}

// Draining keep-alive connections across a config load. Caddy's shutdown_delay keeps the old
// server serving for that long before Shutdown(), and meanwhile {http.shutting_down} is true
// there, so drainRoute answers every request with `Connection: close`: a client then closes the
// connection after that answer instead of reusing it, and by the time Shutdown() closes the
// idle ones, a client that is sending has none left. But Caddy applies the delay only when a
// listener of the old config closes (caddyhttp/app.go Stop(): ListenerUsage(addr) < 2), never
// when the new config listens on the same address as here. So the server also listens on one
// of two unix sockets that no one connects to, the other one at each load: the old one closes,
// and the delay applies. Measured by `npm run bench -- reload` (a host Caddy, 8 HTTP/1.1
// keep-alive workers on one app, 15 loads of another app's route): before, 21 of 97,315 and
// 23 of 79,345 requests failed ("socket hang up"); with this 0 of 148,066 and 0 of 146,966. The
// delay alone, with the drain listener but without drainRoute: 13 of 137,985. shutdown_delay
// without the drain listener (it never applies) 24 of 83,332; grace_period 17, idle_timeout 1s
// 8, keepalive_interval 1s 5, protocols h1 16. `npm run bench -- appspec` phase 2 (40 route
// changes of 10 other apps): 157 of 39,750 failed before, 0 of 87,614 after, 0 WebSocket
// disconnects. The price: each load takes the delay longer (Stop() sleeps it before the admin API
// answers), and a connection idle for the whole delay is still closed under a client that sends
// at that instant. The delay was 1s until 2026-12-03, which made `berth apps create` take 1.45 s
// (PRODUCT.md: under 1 s); it is the setting route_drain_ms now (berth up --route-drain), 250 ms
// by default: `npm run bench -- reload` (40 changes, 8 workers) 0 of 203,582 failed at 250 ms
// and 0 of 350,674 at 1 s, and apps create took 0.78 s.
export const shutdownDelay = (b: Pick<BaseInput, 'drainMs'>) => `${b.drainMs}ms`;

/** The listener that closes at a config load: load number `gen`'s, the other one of two. */
export function drainListener(b: Pick<BaseInput, 'adminSocket'>, gen: number): string {
  return `unix/${dirname(b.adminSocket)}/drain-${gen % 2}.sock`;
}

/** The generation of a running server's listen list (the other one is the next load's). */
export function drainGeneration(b: Pick<BaseInput, 'adminSocket'>, listen: unknown): number {
  return Array.isArray(listen) && listen.includes(drainListener(b, 1)) ? 1 : 0;
}

/** First of the routes, ending in none: while the old server drains, every answer but a 1xx (a
 *  WebSocket's 101 must keep its `Connection: Upgrade`) tells the client to close. */
export function drainRoute() {
  return {
    '@id': DRAIN_ID,
    match: [{ vars: { '{http.shutting_down}': ['true'] } }],
    handle: [{ handler: 'headers', response: { set: { Connection: ['close'] }, require: { status_code: [2, 3, 4, 5] } } }],
  };
}

export function fullConfig(b: BaseInput, routes: RouteInput[], gen = 0) {
  const domains = routes.flatMap(domainsOf);
  return {
    admin: { listen: `unix/${b.adminSocket}`, origins: [ADMIN_ORIGIN] },
    logging: { logs: { default: { level: 'WARN' } } },
    apps: {
      http: {
        http_port: b.httpPort,
        shutdown_delay: shutdownDelay(b),
        https_port: b.httpsPort,
        servers: {
          [SERVER]: {
            // Only the HTTPS port: Caddy then adds its own HTTP server that answers ACME
            // challenges and redirects everything else to HTTPS.
            listen: [`:${b.httpsPort}`, drainListener(b, gen)],
            routes: [drainRoute(), ...routes.flatMap((r) => appRoutes(r, b)), fallbackRoute()],
            errors: errorRoutes(),
          },
        },
      },
      tls: { automation: { policies: tlsPolicies(b, domains) } },
    },
  };
}
