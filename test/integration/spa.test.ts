// Seed 003's app and seed 000's forward, each from a berth.yml, on the real Docker Engine, the
// builder and Caddy. The SPA: Caddy serves the files of the frontend image's /app/dist (a path
// that is no file gets index.html; hashed assets are cached for good, index.html never), /api/*
// reaches the backend without the prefix, www redirects to the apex, and every answer carries
// the file's headers; a redeploy and a rollback switch the files with the release, without a
// proxy config change. The upstream app: a route to a server outside berth (here: on this host,
// reached through the platform network's gateway, as a Tailscale address would be).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSample, Platform } from '../helpers/platform.js';
import { copyFixtureApp, fixtureApp } from '../helpers/fixture-apps.js';
import { CaddyAdmin } from '../../src/proxy/caddy/admin.js';
import { hostAddressOn } from '../helpers/gateway.js';

const p = new Platform();
const src = copyFixtureApp('spa');
const HOST = 'spa.localhost';
let outside: Server;

/** A GET through the real proxy over HTTPS with every response header. */
function fetchHttps(host: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: p.httpsPort, path, servername: host, headers: { host }, ca: p.caRoot, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

/** The SPA's build output says which version it is. */
function writeSpa(version: string): void {
  const index = readFileSync(fixtureApp('spa', 'frontend', 'dist', 'index.html'), 'utf8');
  writeFileSync(join(src, 'frontend', 'dist', 'index.html'), index.replace('VERSION', version));
}

/** The running Caddy's whole config, as its admin API gives it. */
const caddyConfig = async () => JSON.stringify((await new CaddyAdmin(join(p.root, 'run', 'caddy', 'admin.sock')).call('GET', '/config/')).body);

before(async () => {
  await p.up(['--services', 'none']);
  await ensureSample(p);
});
after(async () => {
  outside?.close();
  await p.destroy();
  rmSync(src, { recursive: true, force: true });
});

test('an SPA with an API, one file and one command: files from the image served by Caddy, /api without its prefix, redirects and headers', async () => {
  writeSpa('one');
  // the app does not exist yet: the deploy creates it on the file's domains
  const r = await p.berth(['deploy', 'spa'], { cwd: src, timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /created app spa \(spa\.localhost\)/);
  assert.match(r.stderr, /copy v1's static site/);
  const index = await fetchHttps(HOST, '/');
  assert.equal(index.status, 200);
  assert.match(index.body, /spa one/);
  assert.equal(index.headers['strict-transport-security'], 'max-age=31536000');
  assert.match(String(index.headers['cache-control']), /no-cache/);
  const route = await fetchHttps(HOST, '/some/client/route');
  assert.equal(route.status, 200);
  assert.match(route.body, /spa one/, 'a client route did not get index.html');
  const asset = await fetchHttps(HOST, '/assets/index-BQ4x8sYz.js');
  assert.equal(asset.status, 200);
  assert.match(asset.body, /dataset.ready/);
  assert.match(String(asset.headers['cache-control']), /immutable/);
  assert.equal((await fetchHttps(HOST, '/robots.txt')).body.trim(), 'User-agent: *');
  const api = await fetchHttps(HOST, '/api/x?q=1');
  assert.deepEqual(JSON.parse(api.body), { path: '/x?q=1', release: 'v1' });
  assert.equal(api.headers['strict-transport-security'], 'max-age=31536000');
  const www = await fetchHttps('www.spa.localhost', '/a/b?c=d');
  assert.equal(www.status, 308);
  // the platform's HTTPS port is not 443 in tests: the redirect keeps it
  assert.equal(www.headers.location, `https://spa.localhost:${p.httpsPort}/a/b?c=d`);
  const show = await p.json<{ routes: string[]; processes: string }>(['apps', 'show', 'spa']);
  assert.deepEqual(show.routes, ['/api -> backend (prefix stripped)', '/ -> static site']);
});

test('a redeploy and a rollback switch the files with the release, and change no proxy config', async () => {
  writeSpa('two');
  const before2 = await caddyConfig();
  assert.match(before2, /berth-app-spa/);
  const r = await p.berth(['deploy', 'spa'], { cwd: src, timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match((await fetchHttps(HOST, '/')).body, /spa two/);
  assert.equal(JSON.parse((await fetchHttps(HOST, '/api/y')).body).release, 'v2');
  const back = await p.berth(['rollback', 'spa']);
  assert.equal(back.code, 0, back.stderr);
  assert.match((await fetchHttps(HOST, '/')).body, /spa one/);
  assert.match((await fetchHttps(HOST, '/deep/link')).body, /spa one/);
  assert.equal(JSON.parse((await fetchHttps(HOST, '/api/y')).body).release, 'v1');
  assert.equal(await caddyConfig(), before2, 'a deploy or rollback of an unchanged routing table changed the proxy config');
});

test('an upstream app is a route to a server outside berth, with TLS and the file\'s redirects', async () => {
  const gateway = await hostAddressOn(p.instance);
  assert.ok(gateway, 'the platform network has no gateway');
  outside = createServer((req, res) => res.end(`outside berth: ${req.headers.host} ${req.url}`));
  await new Promise<void>((res) => outside.listen(0, gateway, () => res()));
  const port = (outside.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'berth-upstream-'));
  writeFileSync(join(dir, 'berth.yml'), [`upstream: http://${gateway}:${port}`, 'domains: [tail.localhost]',
    'redirects:', '  - { from: old-tail.localhost, to: tail.localhost, code: 301 }', ''].join('\n'));
  // a file without domains cannot create its app: said with the fix, nothing created
  const bare = mkdtempSync(join(tmpdir(), 'berth-upstream-'));
  writeFileSync(join(bare, 'berth.yml'), `upstream: http://${gateway}:${port}\n`);
  const refused = await p.berth(['deploy', 'bare'], { cwd: bare });
  rmSync(bare, { recursive: true, force: true });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /app bare does not exist, and the file names no domains[^]*berth apps create bare --domain/);
  assert.equal((await p.berth(['apps', 'show', 'bare'])).code, 3, 'the refused deploy created the app');
  await p.ok(['apps', 'create', 'tail', '--domain', 'tail.localhost']);
  const r = await p.berth(['deploy', 'tail'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const got = await fetchHttps('tail.localhost', '/status?x=1');
  assert.equal(got.status, 200);
  assert.equal(got.body, 'outside berth: tail.localhost /status?x=1');
  const old = await fetchHttps('old-tail.localhost', '/p');
  assert.equal(old.status, 301);
  assert.equal(old.headers.location, `https://tail.localhost:${p.httpsPort}/p`);
  const show = await p.json<{ upstream: string; release: string; upstream_health: string }>(['apps', 'show', 'tail']);
  assert.equal(show.upstream, `http://${gateway}:${port}`);
  assert.equal(show.release, 'v1');
  assert.match(show.upstream_health, /^healthy: GET \/ answered 200/);
  await new Promise((res) => outside.close(res));
  const down = await p.json<{ upstream_health: string }>(['apps', 'show', 'tail']);
  assert.match(down.upstream_health, /^unhealthy: GET \/ failed \(ECONNREFUSED\)/);
  assert.equal((await fetchHttps('tail.localhost', '/')).status, 503, 'the proxy did not say the service is down');
  rmSync(dir, { recursive: true, force: true });
});
