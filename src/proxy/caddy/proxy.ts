// The proxy on Caddy: its running config kept equal to what berth wants through the admin API,
// and the whole desired config mirrored into the file Caddy loads at start, so a restarted
// proxy comes back with every route.
//
// Every admin write makes Caddy load a whole new config (and keep each one an open stream was
// proxied under until stream_close_delay ends): so each change is one write at most, a route
// PUT/PATCH/DELETE when only that route changes, or one load of the full config when the TLS
// policies (which name the internal domains) must change with it.
import { renameSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { asBerthError } from '../../lib/errors.js';
import { idOf, type Proxy, type ProxyStatus, type RouteChange, type RouteInput, routeId } from '../types.js';
import type { CaddyAdmin } from './admin.js';
import { appRoute, type BaseInput, errorRoutes, FALLBACK_ID, fullConfig, SERVER, tlsPolicies } from './config.js';

const ROUTES = `/config/apps/http/servers/${SERVER}/routes`;
const POLICIES = '/config/apps/tls/automation/policies';

/** The desired routes with one of them replaced (or added), or removed (pure). */
export function withRoute(routes: RouteInput[], id: string, r: RouteInput | null): RouteInput[] {
  const others = routes.filter((x) => idOf(x) !== id);
  return r ? [...others, r] : others;
}

export class CaddyProxy implements Proxy {
  constructor(
    readonly admin: CaddyAdmin,
    readonly base: BaseInput,
    readonly configFile: string,
    /** Every app's desired route, from berth's state. */
    readonly desired: () => RouteInput[],
  ) {}

  /** One change at a time: a sync reading the desired state while a route change lands
   *  would load its stale view over that change. */
  private tail: Promise<unknown> = Promise.resolve();
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.then(() => undefined, () => undefined);
    return run;
  }

  persist(routes = this.desired()): void {
    const tmp = `${this.configFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(fullConfig(this.base, routes), null, 1), { mode: 0o600 });
    renameSync(tmp, this.configFile);
  }

  async status(): Promise<ProxyStatus> {
    return this.admin.call<unknown[]>('GET', ROUTES).then((r) => ({ ok: r.status === 200, routes: Array.isArray(r.body) ? r.body.length : 0 }),
      (e) => ({ ok: false, error: asBerthError(e).message }));
  }

  private async policiesDiffer(routes: RouteInput[]): Promise<boolean> {
    const have = await this.admin.call('GET', POLICIES);
    return !isDeepStrictEqual(have.body, tlsPolicies(this.base, routes.flatMap((x) => x.domains)));
  }

  ensureRoute(r: RouteInput): Promise<RouteChange> { return this.serial(() => this.ensureRouteNow(r)); }
  removeRoute(app: string, id = routeId(app)): Promise<RouteChange> { return this.serial(() => this.removeRouteNow(id)); }
  sync(): Promise<string[]> { return this.serial(() => this.syncNow()); }

  private async ensureRouteNow(r: RouteInput): Promise<RouteChange> {
    const want = appRoute(r, this.base);
    const id = want['@id'];
    const have = await this.admin.call('GET', `/id/${id}`);
    const change: RouteChange = have.status === 404 ? 'created' : isDeepStrictEqual(have.body, want) ? 'unchanged' : 'updated';
    // `r` may be ahead of the state (a deploy's new port): the config is built with it.
    const routes = withRoute(this.desired(), id, r);
    if (change !== 'unchanged') {
      // The policies must hold the moment the route does: Caddy starts obtaining a new domain's
      // certificate at once, with whatever issuer they give (a stale default is Let's Encrypt).
      if (await this.policiesDiffer(routes)) await this.admin.ok('POST', '/load', fullConfig(this.base, routes));
      else if (change === 'created') await this.admin.ok('PUT', `${ROUTES}/0`, want);
      else await this.admin.ok('PATCH', `/id/${id}`, want);
    }
    this.persist(routes);
    return change;
  }

  private async removeRouteNow(id: string): Promise<RouteChange> {
    const routes = withRoute(this.desired(), id, null);
    const have = await this.admin.call('GET', `/id/${id}`);
    if (have.status !== 404) {
      if (await this.policiesDiffer(routes)) await this.admin.ok('POST', '/load', fullConfig(this.base, routes));
      else await this.admin.ok('DELETE', `/id/${id}`);
    }
    this.persist(routes);
    return have.status === 404 ? 'unchanged' : 'removed';
  }

  /** One read of the running config; when anything differs (a route missing, changed or left
   *  over, the error routes, the TLS policies), one load of the full desired config. */
  private async syncNow(): Promise<string[]> {
    const desired = this.desired();
    type Live = {
      apps?: {
        http?: { servers?: Record<string, { routes?: { '@id'?: string }[]; errors?: unknown }> };
        tls?: { automation?: { policies?: unknown } };
      };
    };
    const cfg = await this.admin.call<Live | null>('GET', '/config/');
    const server = cfg.status === 200 ? cfg.body?.apps?.http?.servers?.[SERVER] : undefined;
    const fixed: string[] = [];
    if (!server) fixed.push('*');
    else {
      if (!isDeepStrictEqual(server.errors, errorRoutes())) fixed.push('error routes');
      if (!isDeepStrictEqual(cfg.body?.apps?.tls?.automation?.policies, tlsPolicies(this.base, desired.flatMap((r) => r.domains)))) fixed.push('tls policies');
      const live = new Map((server.routes ?? []).map((r) => [r['@id'], r] as const));
      for (const r of desired) if (!isDeepStrictEqual(live.get(idOf(r)), appRoute(r, this.base))) fixed.push(r.app);
      const wanted = new Set([...desired.map(idOf), FALLBACK_ID]);
      for (const id of live.keys()) if (!id || !wanted.has(id)) fixed.push(id ?? 'a route without an id');
      if ((server.routes ?? []).at(-1)?.['@id'] !== FALLBACK_ID) fixed.push('fallback route');
    }
    if (fixed.length) await this.admin.ok('POST', '/load', fullConfig(this.base, desired));
    if (fixed.length) this.persist(desired);
    return [...new Set(fixed)];
  }
}
