import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appRoute, appRoutes, fullConfig, tlsPolicies } from './config.js';
import { literal } from './placeholders.js';
import { externalDial } from './targets.js';
import type { RouteInput } from '../types.js';

const base = { adminSocket: '/run/caddy/admin.sock', httpPort: 80, httpsPort: 443, refreshMs: 250, streamCloseDelayMs: 1000, drainMs: 250 };
const proc = (upstream: string, port: number) => ({ kind: 'process' as const, upstream, port });

test('a routing table is one route: the longest prefix first, /api matching /api and /api/..., stripped when asked', () => {
  const r: RouteInput = {
    app: 'shop', domains: ['shop.test'], upstream: 'berth-shop-web', port: 8000,
    paths: [{ prefix: '/', strip_prefix: false, target: proc('berth-shop-web', 8000) },
      { prefix: '/api', strip_prefix: true, target: proc('berth-shop-api', 3000) },
      { prefix: '/api/v2', strip_prefix: false, target: proc('berth-shop-api2', 3001) }],
  };
  const route = appRoute(r, base) as unknown as { '@id': string; handle: { handler: string; routes: { match?: unknown; handle: { handler: string }[] }[] }[] };
  assert.equal(route['@id'], 'berth-app-shop');
  assert.equal(route.handle.length, 1);
  const [v2, api, web] = route.handle[0]!.routes;
  assert.deepEqual(v2!.match, [{ path: ['/api/v2', '/api/v2/*'] }]);
  assert.deepEqual(api!.match, [{ path: ['/api', '/api/*'] }]);
  assert.deepEqual(api!.handle[0], { handler: 'rewrite', strip_path_prefix: '/api' });
  assert.equal(api!.handle[1]!.handler, 'reverse_proxy');
  assert.equal(web!.match, undefined, 'the / route takes everything else');
  assert.equal(route.handle[0]!.routes.length, 3, 'a table with / needs no 404 of its own');
});

test('a table without / answers 404 for the rest, rather than Caddy\'s empty 200', () => {
  const r: RouteInput = { app: 'a', domains: ['a.test'], upstream: '', port: 0, paths: [{ prefix: '/api', strip_prefix: false, target: proc('x', 1) }] };
  const routes = (appRoute(r, base).handle[0] as { routes: { handle: { status_code?: number }[] }[] }).routes;
  assert.equal(routes.at(-1)!.handle[0]!.status_code, 404);
});

test('without a table, headers or redirects an app\'s route is the JSON it always was', () => {
  const r: RouteInput = { app: 'hello', domains: ['hello.test'], upstream: 'berth-hello-web', port: 8000 };
  assert.deepEqual(appRoutes(r, base), [{
    '@id': 'berth-app-hello', match: [{ host: ['hello.test'] }], terminal: true,
    handle: [{ handler: 'reverse_proxy', dynamic_upstreams: { source: 'a', name: 'berth-hello-web', port: '8000', refresh: '250ms' },
      load_balancing: { try_duration: '5s', try_interval: '50ms' }, stream_close_delay: '1000ms' }],
  }]);
});

test('extra headers are set when the answer is written, their braces literal (no {env.X} expansion)', () => {
  const r: RouteInput = { app: 'h', domains: ['h.test'], upstream: 'u', port: 1, headers: { 'X-Frame-Options': 'DENY', 'X-Odd': 'a{env.HOME}\\{b}' } };
  assert.deepEqual(appRoute(r, base).handle[0], {
    handler: 'headers', response: { set: { 'X-Frame-Options': ['DENY'], 'X-Odd': ['a\\{env.HOME\\}\\\\{b\\}'] }, deferred: true },
  });
  assert.equal(literal('{x}'), '\\{x\\}');
});

test('redirect domains get their own route, with the same path and query, and a certificate policy', () => {
  const r: RouteInput = { app: 'w', domains: ['w.test'], upstream: 'u', port: 1,
    redirects: [{ from: ['www.w.test', 'old.localhost'], to: 'w.test', code: 308 }] };
  const [, redirect] = appRoutes(r, { ...base, httpsPort: 8443 });
  assert.deepEqual(redirect, {
    '@id': 'berth-app-w-redirect', match: [{ host: ['www.w.test', 'old.localhost'] }], terminal: true,
    handle: [{ handler: 'static_response', status_code: 308, headers: { Location: ['https://w.test:8443{http.request.uri}'] } }],
  });
  const withTwo = { ...r, redirects: [...r.redirects!, { from: ['x.test'], to: 'y.test', code: 301 as const }] };
  const two = appRoutes(withTwo, base)[1] as unknown as { handle: { routes: unknown[] }[] };
  assert.equal(two.handle[0]!.routes.length, 2);
  const c = fullConfig(base, [r]);
  assert.deepEqual(c.apps.http.servers.berth.routes.map((x) => x['@id']), ['berth-drain', 'berth-app-w', 'berth-app-w-redirect', 'berth-fallback']);
  assert.deepEqual(c.apps.tls.automation.policies, tlsPolicies(base, ['w.test', 'www.w.test', 'old.localhost']));
  assert.deepEqual(c.apps.tls.automation.policies[0], { subjects: ['old.localhost', 'w.test', 'www.w.test'], issuers: [{ module: 'internal' }] });
});

test('an external upstream is dialled at its host and port, over TLS with its name for https', () => {
  assert.deepEqual(externalDial('http://100.64.0.7:8080'), { dial: '100.64.0.7:8080', tls: false, serverName: '100.64.0.7' });
  assert.deepEqual(externalDial('https://svc.tail1234.ts.net'), { dial: 'svc.tail1234.ts.net:443', tls: true, serverName: 'svc.tail1234.ts.net' });
  assert.deepEqual(externalDial('http://[fd7a::1]'), { dial: '[fd7a::1]:80', tls: false, serverName: 'fd7a::1' });
  const r: RouteInput = { app: 'e', domains: ['e.test'], upstream: '', port: 0,
    paths: [{ prefix: '/', strip_prefix: false, target: { kind: 'external', url: 'https://svc.example.com:8443' } }] };
  const h = (appRoute(r, base).handle[0] as { routes: { handle: unknown[] }[] }).routes[0]!.handle[0];
  assert.deepEqual(h, { handler: 'reverse_proxy', upstreams: [{ dial: 'svc.example.com:8443' }],
    transport: { protocol: 'http', tls: { server_name: 'svc.example.com' } }, stream_close_delay: '1000ms' });
});
