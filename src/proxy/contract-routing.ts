// The proxy contract's part on what an app's route does beyond host to upstream (contract.ts
// runs it): its routing table, static files, redirects, extra headers and external services.
// Run against the in-memory fake and a real Caddy, like the rest of the suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ProxyHarness } from './contract.js';
import type { PathRoute, RouteInput } from './types.js';

/** A server that answers `NAME URL HOST` for every request. */
function echo(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => res.end(`${name} ${req.url} ${req.headers.host}`));
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res({ server, port: (server.address() as AddressInfo).port })));
}

function site(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-site-'));
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), body);
  }
  return dir;
}

const proc = (port: number) => ({ kind: 'process' as const, upstream: 'localhost', port });

export function routingContract(name: string, make: () => Promise<ProxyHarness>): void {
  test(`${name}: a routing table sends each prefix (and only it) to its process, the prefix stripped when asked, in one config change`, async () => {
    const h = await make();
    const [web, api, keep] = await Promise.all([echo('web'), echo('api'), echo('keep')]);
    try {
      const paths: PathRoute[] = [
        { prefix: '/', strip_prefix: false, target: proc(web.port) },
        { prefix: '/api', strip_prefix: true, target: proc(api.port) },
        { prefix: '/keep', strip_prefix: false, target: proc(keep.port) },
      ];
      const r: RouteInput = { app: 't', domains: ['t.test'], upstream: 'localhost', port: web.port, paths };
      h.setDesired([r]);
      let changes = h.configChanges();
      assert.equal(await h.proxy.ensureRoute(r), 'created');
      assert.equal(h.configChanges() - changes, 1);
      assert.equal((await h.fetch('t.test', '/api/x?q=1')).body, 'api /x?q=1 t.test');
      assert.equal((await h.fetch('t.test', '/api')).body, 'api / t.test');
      assert.equal((await h.fetch('t.test', '/api/')).body, 'api / t.test');
      assert.equal((await h.fetch('t.test', '/apiary')).body, 'web /apiary t.test', '/api took /apiary');
      assert.equal((await h.fetch('t.test', '/keep/y?z')).body, 'keep /keep/y?z t.test');
      assert.equal((await h.fetch('t.test', '/other')).body, 'web /other t.test');

      // a longer prefix added: the longest wins, whatever the order given; one change
      const r2 = { ...r, paths: [...paths, { prefix: '/api/v2', strip_prefix: false, target: proc(keep.port) }] };
      h.setDesired([r2]);
      changes = h.configChanges();
      assert.equal(await h.proxy.ensureRoute(r2), 'updated');
      assert.equal(h.configChanges() - changes, 1, 'a routing table change took more than one config change');
      assert.equal((await h.fetch('t.test', '/api/v2/u')).body, 'keep /api/v2/u t.test');
      assert.equal((await h.fetch('t.test', '/api/v1')).body, 'api /v1 t.test');
      assert.equal(await h.proxy.ensureRoute(r2), 'unchanged');

      // a table without /: the rest is 404
      const r3 = { ...r, paths: [paths[1]!] };
      h.setDesired([r3]);
      await h.proxy.ensureRoute(r3);
      assert.equal((await h.fetch('t.test', '/other')).status, 404);
      assert.equal((await h.fetch('t.test', '/api/ok')).body, 'api /ok t.test');
    } finally {
      for (const s of [web, api, keep]) s.server.close();
      await h.close();
    }
  });

  test(`${name}: a static SPA serves files as they are, index.html for client routes, 404 for a missing asset, with cache headers`, async () => {
    const h = await make();
    const dir = site({
      'index.html': '<h1>spa</h1>', 'assets/app.3f9a2c1b.js': 'js()', 'assets/index-BQ4x8sYz.css': 'css{}', 'robots.txt': 'robots',
      'docs/index.html': 'docs',
    });
    const plain = site({ 'index.html': 'plain', 'a.txt': 'a' });
    try {
      const r: RouteInput = {
        app: 's', domains: ['s.test'], upstream: 'localhost', port: 1,
        paths: [{ prefix: '/', strip_prefix: false, target: { kind: 'static', dir, spa: true } },
          { prefix: '/plain', strip_prefix: true, target: { kind: 'static', dir: plain, spa: false } }],
      };
      h.setDesired([r]);
      await h.proxy.ensureRoute(r);
      const index = await h.fetch('s.test', '/');
      assert.equal(index.status, 200);
      assert.equal(index.body, '<h1>spa</h1>');
      assert.equal(index.headers['cache-control'], 'no-cache');
      const client = await h.fetch('s.test', '/some/client/route?tab=2');
      assert.deepEqual([client.status, client.body, client.headers['cache-control']], [200, '<h1>spa</h1>', 'no-cache']);
      const js = await h.fetch('s.test', '/assets/app.3f9a2c1b.js');
      assert.deepEqual([js.status, js.body, js.headers['cache-control']], [200, 'js()', 'public, max-age=31536000, immutable']);
      const css = await h.fetch('s.test', '/assets/index-BQ4x8sYz.css');
      assert.deepEqual([css.body, css.headers['cache-control']], ['css{}', 'public, max-age=31536000, immutable']);
      assert.equal((await h.fetch('s.test', '/assets/nope.js')).status, 404, 'a missing asset got the SPA page');
      const robots = await h.fetch('s.test', '/robots.txt');
      assert.deepEqual([robots.body, robots.headers['cache-control']], ['robots', 'no-cache']);
      assert.equal((await h.fetch('s.test', '/docs/')).body, 'docs');
      // not an SPA, served under a prefix: files by their path below it, and 404 for the rest
      assert.equal((await h.fetch('s.test', '/plain/a.txt')).body, 'a');
      assert.equal((await h.fetch('s.test', '/plain/')).body, 'plain');
      assert.equal((await h.fetch('s.test', '/plain/client/route')).status, 404);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(plain, { recursive: true, force: true });
      await h.close();
    }
  });

  test(`${name}: flipping a static site's current link switches its files with no config change`, async () => {
    const h = await make();
    const root = mkdtempSync(join(tmpdir(), 'berth-flip-'));
    try {
      for (const v of ['v1', 'v2']) {
        mkdirSync(join(root, 'releases', v), { recursive: true });
        writeFileSync(join(root, 'releases', v, 'index.html'), `release ${v}`);
      }
      symlinkSync('releases/v1', join(root, 'current'));
      const r: RouteInput = { app: 'f', domains: ['f.test'], upstream: 'localhost', port: 1,
        paths: [{ prefix: '/', strip_prefix: false, target: { kind: 'static', dir: join(root, 'current'), spa: true } }] };
      h.setDesired([r]);
      await h.proxy.ensureRoute(r);
      assert.equal((await h.fetch('f.test', '/')).body, 'release v1');
      const changes = h.configChanges();
      symlinkSync('releases/v2', join(root, 'current.tmp'));
      renameSync(join(root, 'current.tmp'), join(root, 'current'));
      assert.equal((await h.fetch('f.test', '/route')).body, 'release v2');
      assert.equal(h.configChanges(), changes, 'the flip changed the proxy config');
    } finally {
      rmSync(root, { recursive: true, force: true });
      await h.close();
    }
  });

  test(`${name}: redirect domains answer with the same path and query on the target; extra headers on every answer, braces literal`, async () => {
    const h = await make();
    const web = await echo('web');
    try {
      const headers = { 'X-Frame-Options': 'DENY', 'X-Literal': '{env.HOME}{http.request.host}' };
      const r: RouteInput = { app: 'r', domains: ['r.test'], upstream: 'localhost', port: web.port, headers,
        redirects: [{ from: ['www.r.test'], to: 'r.test', code: 308 }, { from: ['old.test'], to: 'r.test', code: 301 }] };
      h.setDesired([r]);
      const changes = h.configChanges();
      assert.equal(await h.proxy.ensureRoute(r), 'created');
      assert.equal(h.configChanges() - changes, 1, 'an app with redirects took more than one config change');
      const www = await h.fetch('www.r.test', '/p/q?x=1&y=2');
      assert.equal(www.status, 308);
      assert.match(www.headers.location ?? '', /^https:\/\/r\.test(:\d+)?\/p\/q\?x=1&y=2$/);
      assert.equal(www.headers['x-frame-options'], 'DENY');
      const old = await h.fetch('old.test', '/');
      assert.equal(old.status, 301);
      assert.match(old.headers.location ?? '', /^https:\/\/r\.test(:\d+)?\/$/);
      const app = await h.fetch('r.test', '/hi');
      assert.equal(app.body, 'web /hi r.test');
      assert.equal(app.headers['x-frame-options'], 'DENY');
      assert.equal(app.headers['x-literal'], '{env.HOME}{http.request.host}', 'a header value was expanded');
      assert.ok((await h.liveRouteIds()).includes('berth-app-r-redirect'));

      // the redirect route lost behind berth's back: sync names the app and brings it back in one change
      await h.dropLive('berth-app-r-redirect');
      assert.notEqual((await h.fetch('www.r.test', '/')).status, 308, 'the dropped redirect route still answers');
      const before = h.configChanges();
      assert.deepEqual(await h.proxy.sync(), ['r']);
      assert.ok(h.configChanges() - before <= 1, 'sync took more than one config change');
      assert.equal((await h.fetch('www.r.test', '/')).status, 308);

      // the redirects dropped: one change, and the domains answer no more
      const plain = { ...r, redirects: [] };
      h.setDesired([plain]);
      let n = h.configChanges();
      assert.equal(await h.proxy.ensureRoute(plain), 'updated');
      assert.equal(h.configChanges() - n, 1);
      assert.ok(!(await h.liveRouteIds()).includes('berth-app-r-redirect'));
      assert.notEqual((await h.fetch('www.r.test', '/')).status, 308);

      // back, then the app removed: both routes go in one change
      h.setDesired([r]);
      await h.proxy.ensureRoute(r);
      h.setDesired([]);
      n = h.configChanges();
      assert.equal(await h.proxy.removeRoute('r'), 'removed');
      assert.equal(h.configChanges() - n, 1);
      assert.deepEqual((await h.liveRouteIds()).filter((id) => id.startsWith('berth-app-r')), []);
    } finally {
      web.server.close();
      await h.close();
    }
  });

  test(`${name}: an external upstream gets the request, path, query and the client's Host`, async () => {
    const h = await make();
    const svc = await echo('svc');
    try {
      const r: RouteInput = { app: 'x', domains: ['x.test'], upstream: '', port: 0,
        paths: [{ prefix: '/', strip_prefix: false, target: { kind: 'external', url: `http://127.0.0.1:${svc.port}` } }] };
      h.setDesired([r]);
      await h.proxy.ensureRoute(r);
      assert.deepEqual((await h.fetch('x.test', '/a/b?c=d')).body, 'svc /a/b?c=d x.test');
      assert.deepEqual(await h.proxy.sync(), [], 'sync found drift in a route it just made');
    } finally {
      svc.server.close();
      await h.close();
    }
  });
}
