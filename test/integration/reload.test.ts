// Another app's route changes drop no request of a loaded app: 8 HTTP/1.1 keep-alive workers
// that never retry (test/helpers/load.ts) on app B, through berth's pinned Caddy, while app A's
// route is created, re-domained and deleted, 15 config loads. Every load makes Caddy Shutdown()
// the old server, which closes its idle keep-alive connections at once; the drain listener and
// route (config.ts) make it close them only after answering `Connection: close` on each. The
// control loads the same configs without them and sees requests fail (23 of 79,345 in
// `npm run bench -- reload --variant before`), so the first test can fail.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { DRAIN_ID, fullConfig } from '../../src/proxy/caddy/config.js';
import { CaddyProxy } from '../../src/proxy/caddy/proxy.js';
import type { RouteInput } from '../../src/proxy/types.js';
import { HostCaddy } from '../helpers/host-caddy.js';
import { Load, type LoadResult } from '../helpers/load.js';
import { sleep, until } from '../helpers/platform.js';

let backend: Server;
let port = 0;
before(async () => {
  backend = createServer((_req, res) => { res.setHeader('content-type', 'text/plain'); res.end('hello b\n'); });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  port = (backend.address() as AddressInfo).port;
});
after(() => backend.close());

const route = (app: string, domains: string[]): RouteInput => ({ app, domains, upstream: '127.0.0.1', port });

/** Keep-alive load on b.test while `change` runs for each of A's three route states in turn. */
async function underLoad(changes: number, change: (caddy: HostCaddy, routes: RouteInput[]) => Promise<void>): Promise<LoadResult> {
  const caddy = new HostCaddy();
  await caddy.start();
  try {
    const b = route('b', ['b.test']);
    await change(caddy, [b]);
    await until(() => caddy.request('b.test').then((r) => r.status === 200), 10_000, 'b.test to answer');
    const load = new Load({ port: caddy.base.httpsPort, host: 'b.test', ca: readFileSync(caddy.caRoot) }, 8);
    await sleep(500);
    const states = [[b, route('a', ['a.test'])], [b, route('a', ['a.test', 'www.a.test'])], [b]];
    for (let i = 0; i < changes; i++) await change(caddy, states[i % 3]!);
    await sleep(500);
    const r = await load.stop();
    assert.ok(r.total > 1000, `only ${r.total} requests: the load did not run`);
    return r;
  } finally {
    await caddy.close();
  }
}

test('15 route changes of app A through the proxy, under keep-alive load on app B: no request to B fails', async () => {
  let desired: RouteInput[] = [];
  let proxy: CaddyProxy | undefined;
  const r = await underLoad(15, async (caddy, routes) => {
    proxy ??= new CaddyProxy(caddy.admin, caddy.base, caddy.configFile, () => desired);
    desired = routes;
    for (const x of routes) await proxy.ensureRoute(x);
    if (!routes.some((x) => x.app === 'a')) await proxy.removeRoute('a');
  });
  assert.equal(r.failed, 0, `${r.failed} of ${r.total} requests to B failed: ${JSON.stringify(r.failures)}`);
});

test('control: the same loads without the drain listener and route drop requests to B', async () => {
  const r = await underLoad(15, async (caddy, routes) => {
    const c = fullConfig(caddy.base, routes);
    delete (c.apps.http as { shutdown_delay?: string }).shutdown_delay;
    const s = c.apps.http.servers.berth;
    s.listen = s.listen.filter((l) => !l.startsWith('unix/'));
    s.routes = s.routes.filter((x) => x['@id'] !== DRAIN_ID);
    await caddy.admin.ok('POST', '/load', c);
  });
  assert.ok(r.failed > 0, `none of ${r.total} requests failed without draining: the test above proves nothing`);
  assert.ok(Object.keys(r.failures).every((f) => /socket hang up|ECONNRESET/.test(f)), JSON.stringify(r.failures));
});
