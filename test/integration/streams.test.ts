// Route changes of one app never cut another app's streams: app B's WebSocket and
// server-sent-events clients stay connected while app A is created, gets a domain added and
// removed, is deployed, rolled back and deleted, ten times over. Each of those but the deploys
// and the rollback changes Caddy's config; Caddy >= 2.7 keeps streams open across config changes
// for stream_close_delay (without it every change closes them all: caddyserver/caddy#3143, and
// the control test at the end shows it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import WebSocket from 'ws';
import { Load } from '../helpers/load.js';
import { Platform, platformWithApps, SAMPLE, sleep } from '../helpers/platform.js';

const p = new Platform();

before(async () => {
  await platformWithApps(p, ['b']);
});
after(() => p.destroy());

function openSse(host: string) {
  const state = { events: 0, closed: false };
  const req = request({ host: '127.0.0.1', port: p.httpsPort, path: '/events', servername: host, headers: { host }, ca: p.caRoot }, (res) => {
    res.on('data', (d: Buffer) => { state.events += d.toString().split('\n\n').length - 1; });
    res.on('close', () => { state.closed = true; });
  });
  req.on('error', () => { state.closed = true; });
  req.end();
  return { state, close: () => req.destroy() };
}

async function openWs(host: string) {
  // ws hands these options to https.request, which knows servername.
  const ws = new WebSocket(`wss://127.0.0.1:${p.httpsPort}/ws`, { headers: { host }, servername: host, ca: p.caRoot } as unknown as WebSocket.ClientOptions);
  const state = { messages: 0, closed: null as string | null, ws };
  ws.on('message', () => { state.messages++; });
  ws.on('close', (code) => { state.closed = `closed with code ${code}`; });
  ws.on('error', (e) => { state.closed = `error ${e.message}`; });
  await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
  return state;
}

test('app B\'s WebSocket and SSE streams survive app A created, re-domained, deployed, rolled back and deleted ten times', async () => {
  const ws = await openWs('b.localhost');
  const sse = openSse('b.localhost');
  await sleep(500);
  assert.ok(ws.messages > 0, 'no WebSocket messages before the changes');

  for (let i = 1; i <= 10; i++) {
    await p.ok(['apps', 'create', 'a', '--domain', 'a.localhost', '--no-db', '--no-redis', '--no-bucket']);
    await p.ok(['domains', 'add', 'a', 'www.a.localhost']);
    await p.ok(['domains', 'remove', 'a', 'www.a.localhost']);
    await p.ok(['deploy', 'a', '--image', SAMPLE]);
    const load = new Load({ port: p.httpsPort, host: 'a.localhost', ca: p.caRoot }, 2);
    await p.ok(['config', 'set', 'a', `VERSION=a${i}`]);
    await p.ok(['rollback', 'a']);
    const res = await load.stop();
    assert.equal(res.failed, 0, `round ${i}: requests to app A failed: ${JSON.stringify(res.failures)}`);
    await p.ok(['apps', 'delete', 'a', '--yes']);
    assert.equal(ws.closed, null, `round ${i}: the WebSocket to app B was ${ws.closed}`);
    assert.equal(sse.state.closed, false, `round ${i}: the SSE stream to app B was closed`);
  }
  const before = ws.messages;
  const sseBefore = sse.state.events;
  await sleep(600);
  assert.ok(ws.messages > before, 'WebSocket messages stopped arriving');
  assert.ok(sse.state.events > sseBefore, 'SSE events stopped arriving');
  ws.ws.close();
  sse.close();
});

test('a new app\'s first deploy changes no Caddy config: its route pointed at its serving name from creation', async () => {
  await p.ok(['apps', 'create', 'c', '--domain', 'c.localhost', '--no-db', '--no-redis', '--no-bucket']);
  const before = await p.get('c.localhost');
  assert.equal(before.status, 503, before.body);
  assert.match(before.body, /no release is answering/);
  const r = await p.ok(['deploy', 'c', '--image', SAMPLE]);
  assert.match(r.stdout + r.stderr, /route \(\d+ ms\): unchanged/);
  assert.equal((await p.get('c.localhost')).status, 200);
});

test('control: with stream_close_delay 0, one route change closes app B\'s stream (so the test above can fail)', async () => {
  await p.up(['--stream-close-delay', '0ms']);
  const ws = await openWs('b.localhost');
  await p.ok(['domains', 'add', 'c', 'www.c.localhost']);
  for (let i = 0; i < 50 && !ws.closed; i++) await sleep(100);
  assert.match(ws.closed ?? 'still open', /closed with code 1001/, 'the stream survived a config change without stream_close_delay');
  await p.up(['--stream-close-delay', '8h']);
});
