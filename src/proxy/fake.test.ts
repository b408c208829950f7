// The proxy contract on the in-memory fake (the Caddy run is in test/integration/caddy-proxy.test.ts).
import { proxyContract } from './contract.js';
import { FakeProxy } from './fake.js';
import type { RouteInput } from './types.js';

proxyContract('fake proxy', async () => {
  let desired: RouteInput[] = [];
  const proxy = new FakeProxy(() => desired);
  return {
    proxy,
    setDesired: (r) => { desired = r; },
    request: (host) => proxy.request(host),
    fetch: (host, uri) => proxy.fetch(host, uri),
    liveRouteIds: async () => proxy.liveIds(),
    // an app's redirect route is part of its live entry here: dropping it drops the redirects
    dropLive: async (id) => {
      const owner = [...proxy.live.entries()].find(([k]) => `${k}-redirect` === id);
      if (owner) proxy.live.set(owner[0], { ...owner[1], redirects: [] });
      else proxy.live.delete(id);
    },
    restart: async () => proxy.restart(),
    configChanges: () => proxy.changes,
    close: async () => undefined,
  };
});
