// Keeps Caddy's running config equal to what berth wants, one route at a time through the
// admin API, and mirrors the whole desired config into the file Caddy loads at start, so a
// restarted proxy comes back with every route.
import { renameSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import type { CaddyAdmin } from './admin.js';
import { appRoute, type BaseInput, errorRoutes, fullConfig, type RouteInput, routeId, SERVER, tlsPolicies } from './config.js';

const ROUTES = `/config/apps/http/servers/${SERVER}/routes`;
const POLICIES = '/config/apps/tls/automation/policies';

export type RouteChange = 'created' | 'updated' | 'unchanged' | 'removed';

export class CaddyProxy {
  constructor(
    readonly admin: CaddyAdmin,
    readonly base: BaseInput,
    readonly configFile: string,
    /** Every app's desired route, from berth's state. */
    readonly desired: () => RouteInput[],
  ) {}

  /** Writes the desired config for Caddy's next start. */
  writeConfigFile(): void {
    const tmp = `${this.configFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(fullConfig(this.base, this.desired()), null, 1), { mode: 0o600 });
    renameSync(tmp, this.configFile);
  }

  async ensureRoute(r: RouteInput): Promise<RouteChange> {
    // TLS policies first: the moment a route names a new domain Caddy starts obtaining its
    // certificate with whatever policy it has, so the issuer (ACME CA, trusted roots) must
    // already be the one berth's settings ask for, never a stale default (Let's Encrypt).
    await this.ensurePolicies();
    const want = appRoute(r, this.base.refreshMs);
    const id = want['@id'];
    const have = await this.admin.call(`GET`, `/id/${id}`);
    let change: RouteChange = 'unchanged';
    if (have.status === 404) {
      await this.admin.ok('PUT', `${ROUTES}/0`, want);
      change = 'created';
    } else if (!isDeepStrictEqual(have.body, want)) {
      await this.admin.ok('PATCH', `/id/${id}`, want);
      change = 'updated';
    }
    this.writeConfigFile();
    return change;
  }

  async removeRoute(app: string, id = routeId(app)): Promise<RouteChange> {
    const r = await this.admin.call('DELETE', `/id/${id}`);
    await this.ensurePolicies();
    this.writeConfigFile();
    return r.status === 404 ? 'unchanged' : 'removed';
  }

  private async ensurePolicies(): Promise<void> {
    const want = tlsPolicies(this.base, this.desired().flatMap((r) => r.domains));
    const have = await this.admin.call('GET', POLICIES);
    if (!isDeepStrictEqual(have.body, want)) await this.admin.ok('PATCH', POLICIES, want);
  }

  /** Brings a running Caddy in line with the desired state with one read of its config;
   *  changes only what differs, route by route, and reports what it fixed. */
  async sync(): Promise<string[]> {
    const desired = this.desired();
    type Live = { apps?: { http?: { servers?: Record<string, { routes?: { '@id'?: string }[] }> }; tls?: { automation?: { policies?: unknown } } } };
    const cfg = await this.admin.call<Live | null>('GET', '/config/');
    const server = cfg.status === 200 ? cfg.body?.apps?.http?.servers?.[SERVER] : undefined;
    if (!server) {
      await this.admin.ok('POST', '/load', fullConfig(this.base, desired));
      this.writeConfigFile();
      return ['*'];
    }
    const fixed: string[] = [];
    if (!isDeepStrictEqual((server as { errors?: unknown }).errors, errorRoutes())) {
      await this.admin.ok('POST', `/config/apps/http/servers/${SERVER}/errors`, errorRoutes());
      fixed.push('error routes');
    }
    const wantPolicies = tlsPolicies(this.base, desired.flatMap((r) => r.domains));
    if (!isDeepStrictEqual(cfg.body?.apps?.tls?.automation?.policies, wantPolicies)) {
      await this.admin.ok('PATCH', POLICIES, wantPolicies);
      fixed.push('tls policies');
    }
    const live = new Map((server.routes ?? []).map((r) => [r['@id'], r] as const));
    for (const r of desired) {
      const want = appRoute(r, this.base.refreshMs);
      const have = live.get(want['@id']);
      if (!have) await this.admin.ok('PUT', `${ROUTES}/0`, want);
      else if (!isDeepStrictEqual(have, want)) await this.admin.ok('PATCH', `/id/${want['@id']}`, want);
      else continue;
      fixed.push(r.app);
    }
    const wanted = new Set(desired.map((r) => appRoute(r, this.base.refreshMs)['@id']));
    for (const id of live.keys()) {
      if ((id?.startsWith('berth-app-') || id?.startsWith('berth-service-')) && !wanted.has(id)) {
        await this.admin.ok('DELETE', `/id/${id}`);
        fixed.push(id);
      }
    }
    if (fixed.length) this.writeConfigFile();
    return fixed;
  }
}
