// The proxy contract (src/proxy/contract.ts) on the real Caddy berth runs (2.11.4, as a host
// process), the same suite the in-memory fake passes.
import { proxyContract } from '../../src/proxy/contract.js';
import { CaddyProxy } from '../../src/proxy/caddy/proxy.js';
import type { RouteInput } from '../../src/proxy/types.js';
import { HostCaddy } from '../helpers/host-caddy.js';

proxyContract('caddy', async () => {
  const caddy = new HostCaddy();
  await caddy.start();
  let desired: RouteInput[] = [];
  const proxy = new CaddyProxy(caddy.admin, caddy.base, caddy.configFile, () => desired);
  return {
    proxy,
    setDesired: (r) => { desired = r; },
    request: (host) => caddy.request(host),
    fetch: (host, uri) => caddy.fetch(host, uri),
    liveRouteIds: async () => ((await caddy.admin.call<{ '@id'?: string }[]>('GET', '/config/apps/http/servers/berth/routes')).body ?? []).map((r) => r['@id'] ?? ''),
    dropLive: async (id) => { await caddy.admin.ok('DELETE', `/id/${id}`); caddy.admin.writes--; },
    restart: async () => { await caddy.stop(); await caddy.start(); },
    configChanges: () => caddy.admin.writes,
    close: () => caddy.close(),
  };
});
