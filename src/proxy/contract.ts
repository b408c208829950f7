// The behaviour every Proxy implementation must show, as one suite: run against the in-memory
// fake (unit tier, src/proxy/fake.test.ts) and against a real Caddy (test/integration).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Proxy, RouteInput } from './types.js';
import { routingContract } from './contract-routing.js';

export interface ProxyHarness {
  proxy: Proxy;
  /** What berth's state says every route should be. */
  setDesired(routes: RouteInput[]): void;
  /** A request for `host` through the running proxy. */
  request(host: string): Promise<{ status: number; body: string }>;
  /** GET uri (path and query) for host through the running proxy, with the answer's headers (lower-case names). */
  fetch(host: string, uri: string): Promise<{ status: number; body: string; headers: Record<string, string> }>;
  /** Route ids the running proxy has. */
  liveRouteIds(): Promise<string[]>;
  /** Takes a route away behind berth's back (someone edited the proxy's config). */
  dropLive(id: string): Promise<void>;
  /** The proxy process restarts and reads its persisted config. */
  restart(): Promise<void>;
  /** Config changes the running proxy has gone through so far. */
  configChanges(): number;
  close(): Promise<void>;
}

function upstream(body: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_, res) => res.end(body));
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res({ server, port: (server.address() as AddressInfo).port })));
}

export function proxyContract(name: string, make: () => Promise<ProxyHarness>): void {
  routingContract(name, make);
  test(`${name}: routes are created, changed and removed one config change each, and reach their upstream`, async () => {
    const h = await make();
    const one = await upstream('one');
    const two = await upstream('two');
    try {
      const a: RouteInput = { app: 'a', domains: ['a.test'], upstream: 'localhost', port: one.port };
      h.setDesired([a]);
      let changes = h.configChanges();
      assert.equal(await h.proxy.ensureRoute(a), 'created');
      assert.equal(h.configChanges() - changes, 1, 'creating a route took more than one config change');
      assert.deepEqual(await h.request('a.test'), { status: 200, body: 'one' });
      assert.notEqual((await h.request('nothing.test')).status, 200, 'a domain without a route was served');

      changes = h.configChanges();
      assert.equal(await h.proxy.ensureRoute(a), 'unchanged');
      assert.equal(h.configChanges(), changes, 'an unchanged route changed the config');

      const a2 = { ...a, domains: ['a.test', 'www.a.test'], port: two.port };
      h.setDesired([a2]);
      changes = h.configChanges();
      assert.equal(await h.proxy.ensureRoute(a2), 'updated');
      assert.equal(h.configChanges() - changes, 1, 'a route change (with a new domain) took more than one config change');
      assert.deepEqual(await h.request('www.a.test'), { status: 200, body: 'two' });

      // a route given ahead of the state (a deploy's new port) is applied as given
      const a3 = { ...a2, port: one.port };
      assert.equal(await h.proxy.ensureRoute(a3), 'updated');
      assert.equal((await h.request('a.test')).body, 'one');

      h.setDesired([]);
      changes = h.configChanges();
      assert.equal(await h.proxy.removeRoute('a'), 'removed');
      assert.equal(h.configChanges() - changes, 1);
      assert.notEqual((await h.request('a.test')).status, 200, 'a removed route still serves');
      assert.equal(await h.proxy.removeRoute('a'), 'unchanged');
    } finally {
      one.server.close();
      two.server.close();
      await h.close();
    }
  });

  test(`${name}: an upstream that answers nothing gives 503, and status counts the routes`, async () => {
    const h = await make();
    try {
      const r: RouteInput = { app: 'down', domains: ['down.test'], upstream: 'no-such-name.invalid', port: 8000 };
      h.setDesired([r]);
      await h.proxy.ensureRoute(r);
      assert.equal((await h.request('down.test')).status, 503);
      const s = await h.proxy.status();
      assert.equal(s.ok, true);
      assert.ok((s.routes ?? 0) >= 1);
    } finally {
      await h.close();
    }
  });

  test(`${name}: sync repairs drift in one change and reports it; a restart comes back with every route`, async () => {
    const h = await make();
    const up = await upstream('up');
    try {
      const routes: RouteInput[] = ['x', 'y'].map((app) => ({ app, domains: [`${app}.test`], upstream: 'localhost', port: up.port }));
      h.setDesired(routes);
      for (const r of routes) await h.proxy.ensureRoute(r);
      assert.deepEqual(await h.proxy.sync(), []);
      await h.dropLive('berth-app-x');
      assert.notEqual((await h.request('x.test')).status, 200, 'the dropped route still serves');
      const changes = h.configChanges();
      assert.deepEqual(await h.proxy.sync(), ['x']);
      assert.ok(h.configChanges() - changes <= 1, 'sync took more than one config change');
      assert.equal((await h.request('x.test')).status, 200);
      h.setDesired([routes[1]!]); // x deleted from the state: sync takes its route away
      const fixed = await h.proxy.sync();
      assert.ok(fixed.includes('berth-app-x'), `sync did not take the deleted app's route away: ${fixed.join(', ')}`);
      h.proxy.persist();
      await h.restart();
      assert.deepEqual((await h.liveRouteIds()).filter((id) => id.startsWith('berth-app-')), ['berth-app-y']);
      assert.equal((await h.request('y.test')).status, 200);
    } finally {
      up.server.close();
      await h.close();
    }
  });
}
