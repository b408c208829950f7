// Caddy's configuration as JSON, built by pure functions. Each app has one route tagged
// "@id": "berth-app-NAME", changed alone through the admin API. The route's upstream is a
// name resolved through DNS every `refresh`, so a deploy changes what the name resolves to
// and never Caddy's configuration (a config change would close every proxied WebSocket:
// caddyserver/caddy#3143, and Debian's Caddy 2.6 has no stream_close_delay).

export const SERVER = 'berth';
export const ADMIN_ORIGIN = 'berth-admin';
export const FALLBACK_ID = 'berth-fallback';
export const routeId = (app: string) => `berth-app-${app}`;

export interface RouteInput {
  /** The route's @id; berth-app-APP when absent (a platform service's route sets its own). */
  id?: string;
  app: string;
  domains: string[];
  /** DNS name of the app's serving container. It resolves only once a release serves: the
   *  route is the same before and after the first deploy, so that deploy changes no config. */
  upstream: string;
  port: number;
}

export interface BaseInput {
  adminSocket: string; // path inside the Caddy container
  httpPort: number;
  httpsPort: number;
  acmeEmail?: string;
  acmeCa?: string;
  acmeCaRoot?: string; // path inside the Caddy container
  refreshMs: number;
}

/** Names that cannot get a public certificate: served by Caddy's internal CA. */
export function isInternalDomain(d: string): boolean {
  return /(^|\.)(localhost|test|local|internal|home\.arpa|example|invalid)$/.test(d);
}

export function appRoute(r: RouteInput, refreshMs: number) {
  const handle = [{
    handler: 'reverse_proxy',
    dynamic_upstreams: { source: 'a', name: r.upstream, port: String(r.port), refresh: `${refreshMs}ms` },
    // While a switch renames containers the name may briefly resolve to nothing, and a
    // retired release refuses connections: retry for a moment instead of answering 502.
    load_balancing: { try_duration: '5s', try_interval: '50ms' },
  }];
  return { '@id': r.id ?? routeId(r.app), match: [{ host: r.domains }], handle, terminal: true };
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
  const internal = domains.filter(isInternalDomain);
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
  const domains = routes.flatMap((r) => r.domains);
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
            routes: [...routes.map((r) => appRoute(r, b.refreshMs)), fallbackRoute()],
            errors: errorRoutes(),
          },
        },
      },
      tls: { automation: { policies: tlsPolicies(b, domains) } },
    },
  };
}
