// What core needs from the proxy in front of the apps. Caddy implements it (caddy/proxy.ts); an
// in-memory fake (fake.ts) passes the same contract suite (contract.ts) for unit tests.

export interface RouteInput {
  /** The route's id; berth-app-APP when absent (a platform service's route sets its own). */
  id?: string;
  app: string;
  domains: string[];
  /** Name the proxy resolves (through the runtime's DNS) to reach the app's serving process. It
   *  resolves only once a release serves: the route is the same before and after the first
   *  deploy, so that deploy changes no proxy config. */
  upstream: string;
  port: number;
}

export type RouteChange = 'created' | 'updated' | 'unchanged' | 'removed';

export const routeId = (app: string) => `berth-app-${app}`;
export const idOf = (r: RouteInput) => r.id ?? routeId(r.app);

export interface ProxyStatus { ok: boolean; routes?: number; error?: string }

export interface Proxy {
  /** Makes one route what `r` says (created or updated), with one config change at most. */
  ensureRoute(r: RouteInput): Promise<RouteChange>;
  removeRoute(app: string, id?: string): Promise<RouteChange>;
  /** Brings the running proxy in line with every desired route; names what it had to fix. */
  sync(): Promise<string[]>;
  /** Keeps the desired config where the proxy reads it when it (re)starts. */
  persist(): void;
  status(): Promise<ProxyStatus>;
}
