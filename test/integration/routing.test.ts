// Routing tables, static sites, redirects, headers and external upstreams on berth's real proxy
// container: the proxy's own container spec (src/bootstrap/proxy-container.ts, with the static
// sites mounted read-only at their host path), driven through its admin socket by CaddyProxy;
// static files taken out of real images by the Docker runtime (exportDir) into release
// directories (core/static-sites); services outside berth are node servers on the host, reached
// from the container through the Docker bridge's gateway, as a Tailscale host would be.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import { ensureCaddyImage, proxyContainerName, proxyContainerSpec } from '../../src/bootstrap/proxy-container.js';
import { StaticSites } from '../../src/core/static-sites/index.js';
import { caddyBase } from '../../src/proxy/caddy/base.js';
import { fullConfig } from '../../src/proxy/caddy/config.js';
import { CaddyProxy } from '../../src/proxy/caddy/proxy.js';
import type { RouteInput } from '../../src/proxy/types.js';
import { DockerRuntime } from '../../src/runtime/docker/driver.js';
import { EngineApi } from '../../src/runtime/docker/engine-api.js';
import { namesFor } from '../../src/runtime/docker/specs.js';
import { ensureLayout, parseSettings, pathsFor } from '../../src/state/settings.js';
import { CountingAdmin } from '../helpers/host-caddy.js';
import { docker, httpsFetch, sleep, until } from '../helpers/platform.js';
import { hostAddressOn } from '../helpers/gateway.js';

const api = new EngineApi();
const instance = `rt${Math.random().toString(36).slice(2, 8)}`;
const names = namesFor(instance);
const root = mkdtempSync(join(tmpdir(), 'berth-routing-'));
const paths = pathsFor(root);
const httpsPort = 44000 + Math.floor(Math.random() * 5000);
const settings = parseSettings({ instance, http_port: httpsPort + 1, https_port: httpsPort, bind: '127.0.0.1' });
const admin = new CountingAdmin(paths.caddyAdminSocket);
let desired: RouteInput[] = [];
const proxy = new CaddyProxy(admin, caddyBase(settings), paths.caddyConfigFile, () => desired);
const sites = new StaticSites(paths.staticDir, new DockerRuntime(api, names, paths));
const servers: Server[] = [];
let gateway = '';
const FRONT = (v: string) => `berth-test/front:${v}`;

/** An image of these files (FROM scratch). The context goes with a Content-Length: this
 *  engine (Docker 20.10) answered a chunked one with "Cannot locate specified Dockerfile". */
async function imageOfFiles(tag: string, files: Record<string, string>): Promise<void> {
  const ctx = mkdtempSync(join(tmpdir(), 'berth-ctx-'));
  try {
    for (const [path, body] of Object.entries(files)) {
      mkdirSync(dirname(join(ctx, 'rootfs', path)), { recursive: true });
      writeFileSync(join(ctx, 'rootfs', path), body);
    }
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\n');
    const tar = execFileSync('tar', ['-C', ctx, '-c', '.']);
    await api.progress('POST', '/build', `build ${tag}`, {
      query: { t: tag, rm: true, version: '1' }, raw: Readable.from([tar]),
      headers: { 'content-type': 'application/x-tar', 'content-length': String(tar.length) }, timeoutMs: 120_000,
    }, () => undefined);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

/** A node server on the host, at the bridge gateway's address (outside berth). */
async function hostServer(handler: (req: IncomingMessage) => string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => res.end(handler(req)));
  await new Promise<void>((res) => server.listen(0, gateway, () => res()));
  servers.push(server);
  return { server, url: `http://${gateway}:${(server.address() as AddressInfo).port}` };
}

/** GET through the proxy; retried while a new domain's certificate is being issued (no TLS yet). */
async function get(host: string, uri: string) {
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      return await httpsFetch(httpsPort, host, uri);
    } catch (e) {
      if (Date.now() > end) throw e;
      await sleep(100);
    }
  }
}

async function ensure(r: RouteInput): Promise<number> {
  desired = [...desired.filter((x) => x.app !== r.app), r];
  const before = admin.writes;
  await proxy.ensureRoute(r);
  return admin.writes - before;
}

before(async () => {
  for (const v of ['v1', 'v2']) {
    await imageOfFiles(FRONT(v), {
      'app/dist/index.html': `<h1>front ${v}</h1>`, [`app/dist/assets/app-${v}x9Kz3Qa.js`]: `js ${v}`, 'app/dist/robots.txt': 'robots',
    });
  }
  await docker.createNetwork({ Name: names.network, Labels: { 'berth.instance': instance } });
  gateway = await hostAddressOn(names.network);
  assert.ok(gateway, 'the test network has no gateway');
  ensureLayout(paths);
  writeFileSync(paths.caddyConfigFile, JSON.stringify(fullConfig(caddyBase(settings), [])));
  const image = await ensureCaddyImage(api, settings, () => undefined);
  const c = await docker.createContainer({ name: proxyContainerName(names), ...proxyContainerSpec(names, settings, paths, image) });
  await c.start();
  await until(() => admin.call('GET', '/config/').then((r) => r.status === 200), 20_000, 'the proxy container to answer');
});

after(async () => {
  for (const s of servers) s.close();
  await docker.getContainer(proxyContainerName(names)).remove({ force: true });
  await docker.getNetwork(names.network).remove();
  rmSync(root, { recursive: true, force: true });
});

test('an SPA with /api: the SPA fallback, the prefix stripped, caching headers, and a release switched by a pointer flip alone', async () => {
  const apiServer = await hostServer((req) => `api ${req.url}`);
  const v1 = await sites.prepare('shop', 'v1', FRONT('v1'), '/app/dist');
  assert.deepEqual([v1.files, v1.skipped], [3, []]);
  sites.point('shop', 'v1');
  const shop: RouteInput = {
    app: 'shop', domains: ['shop.localhost'], upstream: '', port: 0,
    paths: [{ prefix: '/api', strip_prefix: true, target: { kind: 'external', url: apiServer.url } },
      { prefix: '/', strip_prefix: false, target: { kind: 'static', dir: sites.servedDir('shop'), spa: true } }],
  };
  assert.equal(await ensure(shop), 1, 'creating the app took more than one config change');
  await until(async () => (await get('shop.localhost', '/')).status === 200, 10_000, 'the site to serve');

  assert.equal((await get('shop.localhost', '/api/orders?page=2')).body, 'api /orders?page=2');
  assert.equal((await get('shop.localhost', '/api')).body, 'api /');
  const index = await get('shop.localhost', '/');
  assert.deepEqual([index.status, index.body, index.headers['cache-control']], [200, '<h1>front v1</h1>', 'no-cache']);
  assert.ok(index.headers.etag && index.headers['last-modified'], 'no ETag or Last-Modified for revalidation');
  const client = await get('shop.localhost', '/some/client/route');
  assert.deepEqual([client.status, client.body, client.headers['cache-control']], [200, '<h1>front v1</h1>', 'no-cache']);
  const js = await get('shop.localhost', '/assets/app-v1x9Kz3Qa.js');
  assert.deepEqual([js.status, js.body, js.headers['cache-control']], [200, 'js v1', 'public, max-age=31536000, immutable']);
  assert.equal((await get('shop.localhost', '/assets/nope.js')).status, 404);
  assert.equal((await get('shop.localhost', '/robots.txt')).headers['cache-control'], 'no-cache');

  // the next release: files prepared beside, then one flip; Caddy's config is not touched
  await sites.prepare('shop', 'v2', FRONT('v2'), '/app/dist');
  assert.equal((await get('shop.localhost', '/')).body, '<h1>front v1</h1>', 'preparing v2 changed what is served');
  const writes = admin.writes;
  sites.point('shop', 'v2');
  assert.equal((await get('shop.localhost', '/')).body, '<h1>front v2</h1>');
  assert.equal((await get('shop.localhost', '/assets/app-v2x9Kz3Qa.js')).body, 'js v2');
  sites.point('shop', 'v1'); // a rollback
  assert.equal((await get('shop.localhost', '/client')).body, '<h1>front v1</h1>');
  assert.equal(admin.writes, writes, 'switching the static release changed the proxy config');
  assert.deepEqual(sites.prune('shop', ['v2']), [], 'prune took a kept release or the current one');
  assert.deepEqual(sites.prune('shop', []), ['v2']);
  assert.equal((await get('shop.localhost', '/')).body, '<h1>front v1</h1>');
});

test('redirect domains and extra headers on the real proxy: 308 with path and query, headers literal, certificates for the redirect domains', async () => {
  const web = await hostServer((req) => `web ${req.url} ${req.headers.host}`);
  const r: RouteInput = {
    app: 'apex', domains: ['apex.localhost'], upstream: '', port: 0,
    paths: [{ prefix: '/', strip_prefix: false, target: { kind: 'external', url: web.url } }],
    redirects: [{ from: ['www.apex.localhost'], to: 'apex.localhost', code: 308 }],
    headers: { 'Strict-Transport-Security': 'max-age=63072000', 'X-Braces': '{env.HOME}' },
  };
  assert.equal(await ensure(r), 1);
  const www = await until(async () => { const a = await get('www.apex.localhost', '/a/b?c=1'); return a.status === 308 && a; }, 10_000, 'the redirect');
  assert.equal(www.headers.location, `https://apex.localhost:${httpsPort}/a/b?c=1`);
  assert.equal(www.headers['strict-transport-security'], 'max-age=63072000');
  const app = await get('apex.localhost', '/x');
  assert.equal(app.body, 'web /x apex.localhost', 'the external service did not get the client\'s Host');
  assert.equal(app.headers['x-braces'], '{env.HOME}');
});

test('changing one app\'s routing table is one config change each time, and another app\'s WebSocket stays open', async () => {
  const wsHttp = createServer((_, res) => res.end('chat'));
  const wss = new WebSocketServer({ server: wsHttp });
  wss.on('connection', (ws) => { const t = setInterval(() => ws.send('tick'), 50); ws.on('close', () => clearInterval(t)); });
  await new Promise<void>((res) => wsHttp.listen(0, gateway, () => res()));
  servers.push(wsHttp);
  const chat: RouteInput = { app: 'chat', domains: ['chat.localhost'], upstream: '', port: 0,
    paths: [{ prefix: '/', strip_prefix: false, target: { kind: 'external', url: `http://${gateway}:${(wsHttp.address() as AddressInfo).port}` } }] };
  await ensure(chat);
  await until(async () => (await get('chat.localhost', '/')).body === 'chat', 10_000, 'chat to answer');
  const wsOptions = { headers: { host: 'chat.localhost' }, servername: 'chat.localhost', rejectUnauthorized: false };
  const ws = new WebSocket(`wss://127.0.0.1:${httpsPort}/ws`, wsOptions as unknown as WebSocket.ClientOptions);
  let messages = 0;
  let closed: string | null = null;
  ws.on('message', () => { messages++; });
  ws.on('close', (code) => { closed = `closed with code ${code}`; });
  ws.on('error', (e) => { closed = `error ${e.message}`; });
  await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });

  const other = await hostServer((req) => `other ${req.url}`);
  const ext = { kind: 'external' as const, url: other.url };
  for (let i = 1; i <= 5; i++) {
    const table: RouteInput = { app: 'tables', domains: ['tables.localhost'], upstream: '', port: 0,
      paths: [{ prefix: '/', strip_prefix: false, target: ext }, { prefix: `/v${i}`, strip_prefix: true, target: ext }] };
    assert.equal(await ensure(table), 1, `round ${i}: the table change took more than one config change`);
    assert.equal((await get('tables.localhost', `/v${i}/x`)).body, 'other /x');
    const seen = messages;
    await sleep(200);
    assert.ok(messages > seen, `round ${i}: the WebSocket stopped receiving`);
    assert.equal(closed, null, `round ${i}: the WebSocket of another app was ${closed}`);
  }
  ws.close();
  wss.close();
});
