import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appRoute, drainGeneration, drainListener, fullConfig, isInternalDomain, routeId, tlsPolicies } from './config.js';

const base = { adminSocket: '/run/caddy/admin.sock', httpPort: 80, httpsPort: 443, refreshMs: 250, streamCloseDelayMs: 8 * 3600_000, drainMs: 250 };

test('an app route proxies to its serving name, resolved dynamically', () => {
  const r = appRoute({ app: 'hello', domains: ['hello.localhost', 'www.hello.localhost'], upstream: 'berth-hello-web', port: 8000 }, base);
  assert.deepEqual(r, {
    '@id': 'berth-app-hello',
    match: [{ host: ['hello.localhost', 'www.hello.localhost'] }],
    handle: [{
      handler: 'reverse_proxy',
      dynamic_upstreams: { source: 'a', name: 'berth-hello-web', port: '8000', refresh: '250ms' },
      load_balancing: { try_duration: '5s', try_interval: '50ms' },
      stream_close_delay: '28800000ms',
    }],
    terminal: true,
  });
});

test('when no release answers, the proxy\'s bare 502 or 503 becomes a 503 that says so', () => {
  const c = fullConfig(base, [{ app: 'x', domains: ['x.test'], upstream: 'berth-x-web', port: 8000 }]);
  const e = c.apps.http.servers.berth.errors.routes[0]!;
  assert.deepEqual(e.match, [{ expression: '{http.error.status_code} == 502 || {http.error.status_code} == 503' }]);
  assert.equal(e.handle[0]!.status_code, 503);
  assert.equal(routeId('x'), c.apps.http.servers.berth.routes[1]!['@id']);
});

test('internal names get the internal CA, others ACME with the configured CA', () => {
  assert.ok(isInternalDomain('hello.localhost'));
  assert.ok(isInternalDomain('a.b.test'));
  assert.ok(!isInternalDomain('app.example.com'));
  assert.ok(!isInternalDomain('localhostx.com'));
  assert.deepEqual(tlsPolicies({ ...base, acmeEmail: 'ops@example.com', acmeCa: 'https://pebble:14000/dir', acmeCaRoot: '/etc/berth/acme-ca.pem' },
    ['a.localhost', 'app.example.com']), [
    { subjects: ['a.localhost'], issuers: [{ module: 'internal' }] },
    { issuers: [{ module: 'acme', email: 'ops@example.com', ca: 'https://pebble:14000/dir', trusted_roots_pem_files: ['/etc/berth/acme-ca.pem'] }] },
  ]);
});

test('the full config keeps the fallback route last and the admin API on a unix socket', () => {
  const c = fullConfig(base, [{ app: 'a', domains: ['a.localhost'], upstream: 'berth-a-web', port: 8000 }]);
  assert.equal(c.admin.listen, 'unix//run/caddy/admin.sock');
  const routes = c.apps.http.servers.berth.routes;
  assert.deepEqual(routes.map((r) => r['@id']), ['berth-drain', 'berth-app-a', 'berth-fallback']);
  assert.deepEqual(c.apps.http.servers.berth.listen, [':443', 'unix//run/caddy/drain-0.sock']);
});

test('each load listens on the other drain socket, so the old one closes and shutdown_delay applies', () => {
  const c = (gen: number) => fullConfig(base, [], gen);
  assert.equal(c(0).apps.http.shutdown_delay, '250ms');
  assert.deepEqual(c(1).apps.http.servers.berth.listen, [':443', 'unix//run/caddy/drain-1.sock']);
  assert.equal(drainListener(base, 2), drainListener(base, 0));
  assert.equal(drainGeneration(base, c(0).apps.http.servers.berth.listen), 0);
  assert.equal(drainGeneration(base, c(1).apps.http.servers.berth.listen), 1);
  assert.equal(drainGeneration(base, [':443']), 0, 'a config from before drain listeners');
  // While draining, the old server's answers close their connections, but never a 101's.
  const drain = c(0).apps.http.servers.berth.routes[0]!;
  assert.deepEqual(drain, {
    '@id': 'berth-drain',
    match: [{ vars: { '{http.shutting_down}': ['true'] } }],
    handle: [{ handler: 'headers', response: { set: { Connection: ['close'] }, require: { status_code: [2, 3, 4, 5] } } }],
  });
  assert.ok(!('terminal' in drain), 'the drain route must fall through to the app routes');
});
