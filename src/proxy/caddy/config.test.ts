import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appRoute, fullConfig, isInternalDomain, routeId, tlsPolicies } from './config.js';

const base = { adminSocket: '/run/caddy/admin.sock', httpPort: 80, httpsPort: 443, refreshMs: 250 };

test('an app route proxies to its serving name, resolved dynamically', () => {
  const r = appRoute({ app: 'hello', domains: ['hello.localhost', 'www.hello.localhost'], upstream: 'berth-hello-web', port: 8000 }, 250);
  assert.deepEqual(r, {
    '@id': 'berth-app-hello',
    match: [{ host: ['hello.localhost', 'www.hello.localhost'] }],
    handle: [{
      handler: 'reverse_proxy',
      dynamic_upstreams: { source: 'a', name: 'berth-hello-web', port: '8000', refresh: '250ms' },
      load_balancing: { try_duration: '5s', try_interval: '50ms' },
    }],
    terminal: true,
  });
});

test('an app without a release answers 503 with a reason', () => {
  const r = appRoute({ app: 'x', domains: ['x.test'], upstream: null, port: 8000 }, 250);
  assert.equal(r.handle[0]!.handler, 'static_response');
  assert.equal((r.handle[0] as { status_code: number }).status_code, 503);
  assert.equal(routeId('x'), r['@id']);
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
  const c = fullConfig(base, [{ app: 'a', domains: ['a.localhost'], upstream: null, port: 8000 }]);
  assert.equal(c.admin.listen, 'unix//run/caddy/admin.sock');
  const routes = c.apps.http.servers.berth.routes;
  assert.deepEqual(routes.map((r) => r['@id']), ['berth-app-a', 'berth-fallback']);
  assert.deepEqual(c.apps.http.servers.berth.listen, [':443']);
});
