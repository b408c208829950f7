// Caddy's configuration as JSON, built by pure functions. Each app has one route tagged
// "@id": "berth-app-NAME", changed alone through the admin API. The route's upstream is a
// name resolved through DNS every `refresh`, so a deploy or rollback changes what the name
// resolves to (a container rename) and never Caddy's configuration.
//
// Why not switch by PATCHing the route's upstream (one admin call, no rename, and what a Swarm
// service could use too)? Because any config change makes Caddy load a whole new config and
// close every idle keep-alive connection of every app, and a request sent on one at that
// instant fails. Measured by `npm run bench -- switch` (22 routes, 20 switches each way under
// the same load): by rename 0 of 26,832 requests to the app and 0 of 18,542 to another app
// failed; by PATCH 81 of 19,413 and 36 of 11,802 ("socket hang up"). So route changes are kept
// to what needs them (an app's creation, deletion, domains, port, routing table, redirects and
// headers), and stream_close_delay keeps WebSockets and SSE streams open across those.
//
// An app with a routing table (paths), static files or extra headers keeps one route: its
// handlers become a subroute (paths.ts), so that changing its table is still one route change.
// Its redirect domains get a second route, `berth-app-NAME-redirect` (redirects.ts), changed
// together with the first in one config change (proxy.ts). A static site's files switch by a
// symlink flip under the file server's root (static.ts), again without a config change.

import { domainsOf, idOf, type RouteInput, routeId } from '../types.js';
import { pathRoutes } from './paths.js';
import { headersHandler, redirectRoute } from './redirects.js';
import { processHandler } from './targets.js';

export const SERVER = 'berth';
export const ADMIN_ORIGIN = 'berth-admin';
export const FALLBACK_ID = 'berth-fallback';
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

export function fullConfig(b: BaseInput, routes: RouteInput[]) {
  const domains = routes.flatMap(domainsOf);
  return {
    admin: { listen: `unix/${b.adminSocket}`, origins: [ADMIN_ORIGIN] },
    logging: { logs: { default: { level: 'WARN' } } },
    apps: {
      http: {
        http_port: b.httpPort,
        https_port: b.httpsPort,
        servers: {
          [SERVER]: {
            // Only the HTTPS port: Caddy then adds its own HTTP server that answers ACME
            // challenges and redirects everything else to HTTPS.
            listen: [`:${b.httpsPort}`],
            routes: [...routes.flatMap((r) => appRoutes(r, b)), fallbackRoute()],
            errors: errorRoutes(),
          },
        },
      },
      tls: { automation: { policies: tlsPolicies(b, domains) } },
    },
  };
}
