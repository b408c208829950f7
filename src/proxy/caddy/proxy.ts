// The proxy on Caddy: its running config kept equal to what berth wants through the admin API,
// and the whole desired config mirrored into the file Caddy loads at start, so a restarted
// proxy comes back with every route.
//
// Every admin write makes Caddy load a whole new config (and keep each one an open stream was
// proxied under until stream_close_delay ends): so each change is one write at most, one load of
// the full config. Not a route PUT/PATCH/DELETE, though Caddy reloads everything for those too:
// each load must also swap the server's drain listener, so that the old server drains its
// keep-alive connections before closing them (config.ts, drainListener).
import { renameSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { asBerthError } from '../../lib/errors.js';
import { domainsOf, idOf, type Proxy, type ProxyStatus, type RouteChange, type RouteInput, redirectIdOf, routeId } from '../types.js';
import type { CaddyAdmin } from './admin.js';
import {
  appRoutes, type BaseInput, DRAIN_ID, drainGeneration, drainListener, drainRoute, errorRoutes, FALLBACK_ID, fullConfig, SERVER, shutdownDelay, tlsPolicies,
} from './config.js';

const SERVER_PATH = `/config/apps/http/servers/${SERVER}`;
const ROUTES = `${SERVER_PATH}/routes`;

/** The desired routes with one of them replaced (or added), or removed (pure). */
export function withRoute(routes: RouteInput[], id: string, r: RouteInput | null): RouteInput[] {
  const others = routes.filter((x) => idOf(x) !== id);
  return r ? [...others, r] : others;
}

/** One route of an app as it is and as it should be (null: absent). */
export interface RouteDiff { id: string; have: unknown; want: unknown }

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

  /** The drain listener generation of the last load (any one will do for a start). */
  private gen = 0;

  persist(routes = this.desired()): void {
    const tmp = `${this.configFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(fullConfig(this.base, routes, this.gen), null, 1), { mode: 0o600 });
    renameSync(tmp, this.configFile);
  }

  async status(): Promise<ProxyStatus> {
    const count = (b: unknown) => (Array.isArray(b) ? b.filter((r: { '@id'?: string }) => r['@id'] !== DRAIN_ID).length : 0);
    return this.admin.call<unknown[]>('GET', ROUTES).then((r) => ({ ok: r.status === 200, routes: count(r.body) }),
      (e) => ({ ok: false, error: asBerthError(e).message }));
  }

  /** One load of the full config, on the drain listener the running one does not use. */
  private async load(routes: RouteInput[]): Promise<void> {
    const listen = await this.admin.call('GET', `${SERVER_PATH}/listen`);
    this.gen = drainGeneration(this.base, listen.body) + 1;
    await this.admin.ok('POST', '/load', fullConfig(this.base, routes, this.gen));
  }

  ensureRoute(r: RouteInput): Promise<RouteChange> { return this.serial(() => this.ensureRouteNow(r)); }
  removeRoute(app: string, id = routeId(app)): Promise<RouteChange> { return this.serial(() => this.removeRouteNow(id)); }
  sync(): Promise<string[]> { return this.serial(() => this.syncNow()); }

  private async live(id: string): Promise<unknown> {
    const have = await this.admin.call('GET', `/id/${id}`);
    return have.status === 404 ? null : have.body;
  }

  /** Makes an app's routes (its own and its redirect route) what `want` holds, in one change. */
  private async apply(ids: string[], want: Map<string, unknown>, routes: RouteInput[]): Promise<RouteDiff[]> {
    const diffs: RouteDiff[] = [];
    for (const id of ids) diffs.push({ id, have: await this.live(id), want: want.get(id) ?? null });
    // The load brings the TLS policies too: they must hold the moment the route does, as Caddy
    // starts obtaining a new domain's certificate at once, with whatever issuer they give.
    if (diffs.some((d) => !isDeepStrictEqual(d.have, d.want))) await this.load(routes);
    this.persist(routes);
    return diffs;
  }

  private async ensureRouteNow(r: RouteInput): Promise<RouteChange> {
    const want = new Map(appRoutes(r, this.base).map((x) => [x['@id'], x] as const));
    // `r` may be ahead of the state (a deploy's new port): the config is built with it.
    const diffs = await this.apply([idOf(r), redirectIdOf(r)], want, withRoute(this.desired(), idOf(r), r));
    if (diffs[0]!.have === null) return 'created';
    return diffs.every((d) => isDeepStrictEqual(d.have, d.want)) ? 'unchanged' : 'updated';
  }

  private async removeRouteNow(id: string): Promise<RouteChange> {
    const diffs = await this.apply([id, `${id}-redirect`], new Map(), withRoute(this.desired(), id, null));
    return diffs.every((d) => d.have === null) ? 'unchanged' : 'removed';
  }

  /** One read of the running config; when anything differs (a route missing, changed or left
   *  over, the error routes, the TLS policies), one load of the full desired config. */
  private async syncNow(): Promise<string[]> {
    const desired = this.desired();
    type Live = {
      apps?: {
        http?: { shutdown_delay?: unknown; servers?: Record<string, { listen?: unknown; routes?: { '@id'?: string }[]; errors?: unknown }> };
        tls?: { automation?: { policies?: unknown } };
      };
    };
    const cfg = await this.admin.call<Live | null>('GET', '/config/');
    const server = cfg.status === 200 ? cfg.body?.apps?.http?.servers?.[SERVER] : undefined;
    const fixed: string[] = [];
    if (!server) fixed.push('*');
    else {
      if (!isDeepStrictEqual(server.errors, errorRoutes())) fixed.push('error routes');
      if (!isDeepStrictEqual(cfg.body?.apps?.tls?.automation?.policies, tlsPolicies(this.base, desired.flatMap(domainsOf)))) fixed.push('tls policies');
      const live = new Map((server.routes ?? []).map((r) => [r['@id'], r] as const));
      const drains = [0, 1].map((g) => drainListener(this.base, g));
      const draining = Array.isArray(server.listen) && server.listen.some((l) => drains.includes(l));
      const delayed = cfg.body?.apps?.http?.shutdown_delay === shutdownDelay(this.base);
      if (!draining || !delayed || !isDeepStrictEqual(server.routes?.[0], drainRoute())) fixed.push('drain');
      const wanted = new Set([DRAIN_ID, FALLBACK_ID]);
      for (const r of desired) {
        for (const route of appRoutes(r, this.base)) {
          wanted.add(route['@id']);
          if (!isDeepStrictEqual(live.get(route['@id']), route)) fixed.push(r.app);
        }
      }
      for (const id of live.keys()) if (!id || !wanted.has(id)) fixed.push(id ?? 'a route without an id');
      if ((server.routes ?? []).at(-1)?.['@id'] !== FALLBACK_ID) fixed.push('fallback route');
    }
    if (fixed.length) await this.load(desired);
    if (fixed.length) this.persist(desired);
    return [...new Set(fixed)];
  }
}
