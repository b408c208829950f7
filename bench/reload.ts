// Config reloads under keep-alive load, on berth's pinned Caddy as a host process (no containers,
// a few seconds a run): one app is loaded by HTTP/1.1 keep-alive workers that never retry
// (test/helpers/load.ts) while another app's route is created, changed and deleted through
// CaddyProxy, the way berth changes routes. Counts the loaded app's failed requests.
//
//   npm run bench -- reload [--changes 40] [--concurrency 8] [--variant NAME] [--drain-ms 250]
// Variants rewrite the config berth loads, one /load a change (for comparing Caddy options);
// `berth` is the proxy as shipped.
// Last line: {"bench":"reload","variant":"...","changes":N,"total":N,"failed":N,"failures":{...}}
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Load } from '../test/helpers/load.js';
import { HostCaddy } from '../test/helpers/host-caddy.js';
import { CaddyProxy } from '../src/proxy/caddy/proxy.js';
import { DRAIN_ID, fullConfig } from '../src/proxy/caddy/config.js';
import { dirname } from 'node:path';
import type { RouteInput } from '../src/proxy/types.js';
import { sleep, until } from '../test/helpers/platform.js';
import { ROUTE_DRAIN_MS } from '../src/state/settings.js';
import { arg, log, main, numArg, round } from './lib/common.js';

const changes = numArg('changes', 40);
const concurrency = numArg('concurrency', 8);
const variant = arg('variant', 'berth');
const drainMs = numArg('drain-ms', ROUTE_DRAIN_MS); // the route change's drain (berth up --route-drain)

type Server = Record<string, unknown> & { listen: string[]; routes: { '@id'?: string; handle?: unknown[] }[] };
type Cfg = { apps: { http: Record<string, unknown> & { servers: Record<string, Server> } } };
/** The config as it was before drain listeners (config.ts): no shutdown_delay, one listener. */
function before(c: Cfg): Server {
  delete c.apps.http.shutdown_delay;
  const s = c.apps.http.servers.berth!;
  s.listen = s.listen.filter((l) => !l.startsWith('unix/'));
  s.routes = s.routes.filter((r) => r['@id'] !== DRAIN_ID);
  return s;
}
// Each one a rewrite of fullConfig's config for load number n (`berth`: as the proxy loads it).
const variants: Record<string, (c: Cfg, n: number) => void> = {
  before: (c) => { before(c); },
  shutdown_delay: (c) => { before(c); c.apps.http.shutdown_delay = '2s'; },
  grace_period: (c) => { before(c); c.apps.http.grace_period = '10s'; },
  idle_timeout_1s: (c) => { before(c).idle_timeout = '1s'; },
  keepalive_interval: (c) => { before(c).keepalive_interval = '1s'; },
  h1_only: (c) => { before(c).protocols = ['h1']; },
  no_keepalive: (c) => {
    const s = before(c);
    s.routes = [{ handle: [{ handler: 'headers', response: { set: { Connection: ['close'] } } }] }, ...s.routes];
  },
  // shutdown_delay and the alternating drain listener, without the drain route's Connection: close
  no_drain_route: (c) => { const s = c.apps.http.servers.berth!; s.routes = s.routes.filter((r) => r['@id'] !== DRAIN_ID); },
  // the drain listener the same at every load
  one_drain_listener: (c) => {
    const s = c.apps.http.servers.berth!;
    s.listen = [s.listen[0]!, `unix/${dirname(s.listen[1]!.slice(5))}/drain-0.sock`];
  },
};

main('reload', async () => {
  const rewrite = variants[variant];
  if (!rewrite && variant !== 'berth') throw new Error(`unknown variant ${variant}; one of ${Object.keys(variants).join(', ')}`);
  const backend = createServer((_req, res) => { res.setHeader('content-type', 'text/plain'); res.end('hello b\n'); });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  const port = (backend.address() as AddressInfo).port;
  const caddy = new HostCaddy();
  caddy.base.drainMs = drainMs;
  const route = (app: string, domains: string[]): RouteInput => ({ app, domains, upstream: '127.0.0.1', port });
  const b = route('b', ['b.test']);
  let desired: RouteInput[] = [b];
  const proxy = new CaddyProxy(caddy.admin, caddy.base, caddy.configFile, () => desired);
  let n = 0;
  // `berth`: the proxy's own calls (a route PUT, PATCH or DELETE each); a variant: one /load of
  // the whole desired config, rewritten.
  const apply = async (next: RouteInput[]) => {
    desired = next;
    if (variant === 'berth') {
      for (const r of next) await proxy.ensureRoute(r);
      if (!next.some((r) => r.app === 'a')) await proxy.removeRoute('a');
    } else {
      const c = fullConfig(caddy.base, next, n) as unknown as Cfg;
      rewrite!(c, n++);
      await caddy.admin.ok('POST', '/load', c);
    }
  };
  await caddy.start();
  try {
    await apply([b]);
    await until(() => caddy.request('b.test').then((r) => r.status === 200), 10_000, 'b.test to answer');
    const load = new Load({ port: caddy.base.httpsPort, host: 'b.test', ca: readFileSync(caddy.caRoot) }, concurrency);
    await sleep(1000);
    const t0 = performance.now();
    const steps = [[b, route('a', ['a.test'])], [b, route('a', ['a.test', 'www.a.test'])], [b]];
    for (let i = 0; i < changes; i++) await apply(steps[i % 3]!);
    const ms = performance.now() - t0;
    await sleep(1000);
    const r = await load.stop();
    log(`${variant} (drain ${drainMs} ms): ${changes} changes in ${Math.round(ms)} ms; ${r.failed} of ${r.total} failed ${JSON.stringify(r.failures)}`);
    return { variant, drain_ms: drainMs, changes, change_ms: round(ms / changes), total: r.total, failed: r.failed, failures: r.failures };
  } finally {
    await caddy.close();
    backend.close();
  }
});
