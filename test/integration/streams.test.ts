// A deploy of one app never disturbs another: app B's WebSocket and server-sent-events
// streams stay open while app A is deployed ten times. (Any change to Caddy's config would
// close them all — caddyserver/caddy#3143 — so this fails if a deploy touches the config.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import WebSocket from 'ws';
import { Load } from '../helpers/load.js';
import { Platform, platformWithApps, SAMPLE, sleep } from '../helpers/platform.js';

const p = new Platform();

before(async () => {
  await platformWithApps(p, ['a', 'b']);
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

function openWs(host: string): WebSocket {
  // ws hands these options to https.request, which knows servername.
  return new WebSocket(`wss://127.0.0.1:${p.httpsPort}/ws`, { headers: { host }, servername: host, ca: p.caRoot } as unknown as WebSocket.ClientOptions);
}

test('WebSocket and SSE streams of app B survive 10 deploys of app A', async () => {
  const ws = openWs('b.localhost');
  let messages = 0;
  let closed: string | null = null;
  ws.on('message', () => { messages++; });
  ws.on('close', (code) => { closed = `closed with code ${code}`; });
  ws.on('error', (e) => { closed = `error ${e.message}`; });
  await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
  const sse = openSse('b.localhost');
  const load = new Load({ port: p.httpsPort, host: 'a.localhost', ca: p.caRoot }, 4);
  await sleep(500);
  assert.ok(messages > 0, 'no WebSocket messages before the deploys');

  for (let i = 1; i <= 10; i++) await p.ok(['config', 'set', 'a', `VERSION=a${i}`]);

  const before = messages;
  const sseBefore = sse.state.events;
  await sleep(600);
  const res = await load.stop();
  assert.equal(closed, null, `the WebSocket to app B was ${closed}`);
  assert.equal(sse.state.closed, false, 'the SSE stream to app B was closed');
  assert.ok(messages > before, 'WebSocket messages stopped arriving');
  assert.ok(sse.state.events > sseBefore, 'SSE events stopped arriving');
  assert.equal(res.failed, 0, `requests to app A failed: ${JSON.stringify(res.failures)}`);
  assert.ok(res.bodies.a10, `app A never served a10: ${JSON.stringify(res.bodies)}`);
  ws.close();
  sse.close();
});

test('control: a change of Caddy config (a new app) does close every stream, as caddy#3143 says', async () => {
  const ws = openWs('b.localhost');
  await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
  const closed = new Promise<number>((res) => ws.once('close', (code) => res(code)));
  await p.ok(['apps', 'create', 'c', '--domain', 'c.localhost']);
  const code = await Promise.race([closed, sleep(5000).then(() => -1)]);
  assert.notEqual(code, -1, 'the stream survived a config change: this Caddy may have stream_close_delay; revisit the design notes');
});

test('the first deploy of a new app changes no Caddy config: other apps\' streams stay open', async () => {
  // app c exists (created by the control test); its route already points at its serving name
  const ws = openWs('b.localhost');
  let closed: string | null = null;
  ws.on('close', (code) => { closed = `closed with code ${code}`; });
  await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
  const before = await p.get('c.localhost');
  assert.equal(before.status, 503, before.body);
  assert.match(before.body, /no release is answering/);
  const r = await p.ok(['deploy', 'c', '--image', SAMPLE]);
  assert.match(r.stdout + r.stderr, /route \(\d+ ms\): unchanged/);
  assert.equal((await p.get('c.localhost')).status, 200);
  await sleep(500);
  assert.equal(closed, null, `the WebSocket to app B was ${closed}`);
  ws.close();
});
