// What core needs from the proxy in front of the apps. Caddy implements it (caddy/proxy.ts); an
// in-memory fake (fake.ts) passes the same contract suite (contract.ts) for unit tests.

/** Where the requests of one path prefix go. */
export type RouteTarget =
  /** A name the proxy resolves (through the runtime's DNS) on every refresh, as `upstream`. */
  | { kind: 'process'; upstream: string; port: number; upstreams?: string[] }
  /** Files under a host directory (static-sites: <root>/static/APP/current), served by the
   *  proxy's file server; spa: a path that is no file (and no asset, see caddy/static.ts) gets
   *  /index.html. */
  | { kind: 'static'; dir: string; spa: boolean }
  /** A service outside berth: http(s)://host[:port], no path. */
  | { kind: 'external'; url: string };

export interface PathRoute {
  /** '/' or '/api' (no trailing slash, as pathPrefix in core/spec/fields.ts gives): '/api'
   *  matches /api and /api/..., never /apiary. */
  prefix: string;
  /** /api/x?q=1 reaches the target as /x?q=1, and /api as /. */
  strip_prefix: boolean;
  target: RouteTarget;
}

/** Requests for `from` answered with a redirect to the same path and query on `to`. */
export interface RedirectRule { from: string[]; to: string; code: 301 | 308 }

export interface RouteInput {
  /** The route's id; berth-app-APP when absent (a platform service's route sets its own). */
  id?: string;
  app: string;
  domains: string[];
  /** Name the proxy resolves (through the runtime's DNS) to reach the app's serving process. It
   *  resolves only once a release serves: the route is the same before and after the first
   *  deploy, so that deploy changes no proxy config. Not read when `paths` is given. */
  upstream: string;
  /** Every copy's name when the serving process runs several (`upstream` first): the proxy
   *  balances across those that resolve. Absent: the one copy, `upstream`. */
  upstreams?: string[];
  port: number;
  /** The app's routing table; when given it is the whole of it (a request no prefix matches
   *  gets 404). Absent: everything to upstream:port, as before routing tables. */
  paths?: PathRoute[];
  redirects?: RedirectRule[];
  /** Extra response headers on every answer for the app's domains and its redirects. */
  headers?: Record<string, string>;
}

export type RouteChange = 'created' | 'updated' | 'unchanged' | 'removed';

export const routeId = (app: string) => `berth-app-${app}`;
export const idOf = (r: RouteInput) => r.id ?? routeId(r.app);
/** The id of the route that answers an app's redirect domains (beside its own route). */
export const redirectIdOf = (r: Pick<RouteInput, 'id' | 'app'>) => `${idOf(r as RouteInput)}-redirect`;
/** Every domain the proxy answers for this route: its own and those it redirects from. */
export const domainsOf = (r: RouteInput) => [...r.domains, ...(r.redirects ?? []).flatMap((x) => x.from)];

export interface ProxyStatus { ok: boolean; routes?: number; error?: string }

export interface Proxy {
  /** Makes one app's routes what `r` says (created or updated), with one config change at most,
   *  redirect domains included. */
  ensureRoute(r: RouteInput): Promise<RouteChange>;
  /** Takes an app's routes away (its redirects too), with one config change at most. */
  removeRoute(app: string, id?: string): Promise<RouteChange>;
  /** Brings the running proxy in line with every desired route; names what it had to fix. */
  sync(): Promise<string[]>;
  /** Keeps the desired config where the proxy reads it when it (re)starts. */
  persist(): void;
  status(): Promise<ProxyStatus>;
}
