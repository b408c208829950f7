// Deploys of an app described by a berth.yml (seed 003's SPA + API: Caddy serves the frontend
// image's files with an SPA fallback, /api/* goes to a backend without the prefix), under load
// on both routes at once.
//   1. 10 deploys and 5 rollbacks (D D R, five times): failed requests per route, p99 during the
//      ops vs steady state. Each deploy is a config change: a new release whose site files are
//      copied out of the image again and switched by one pointer flip, and whose backend switches
//      by rename.
//   2. Other apps' routes created, changed (a domain added and removed) and deleted while the same
//      load runs and a WebSocket of the measured app (through /api) stays open: failed requests,
//      and the WebSocket's disconnects (goal 0: stream_close_delay keeps it across config loads).
//
//   npm run bench -- appspec [--concurrency 4] [--steady 5] [--deploys 10] [--rollbacks 5] [--others 10]
// Last line: {"bench":"appspec","total":N,"failed":N,"failed_api":N,"failed_static":N,"p99_steady_ms":X,"p99_deploy_ms":X,"ws_disconnects":N,...}
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import type { LoadResult } from '../test/helpers/load.js';
import { type Platform, sleep } from '../test/helpers/platform.js';
import { copyFixtureApp } from '../test/helpers/fixture-apps.js';
import { log, main, numArg, opsPattern, round, stats, timed, withPlatform } from './lib/common.js';
import { RemoteLoad } from './lib/remote-load.js';

const concurrency = numArg('concurrency', 4);
const steadyS = numArg('steady', 5);
const deploys = numArg('deploys', 10);
const rollbacks = numArg('rollbacks', 5);
const others = numArg('others', 10);
const HOST = 'spa.localhost';

const inWindow = (r: LoadResult, from: number, to: number) => r.latencies.filter((l) => l.at >= from && l.at <= to).map((l) => l.ms);

const ops = () => opsPattern(deploys, rollbacks);

function openWs(p: Platform): Promise<WebSocket> {
  const ws = new WebSocket(`wss://127.0.0.1:${p.httpsPort}/api/ws`,
    { headers: { host: HOST }, servername: HOST, ca: p.caRoot } as unknown as WebSocket.ClientOptions);
  return new Promise((res, rej) => { ws.once('open', () => res(ws)); ws.once('error', rej); });
}

async function deployPhase(p: Platform) {
  const api = new RemoteLoad({ port: p.httpsPort, host: HOST, path: '/api/ping', ca: p.caRoot }, concurrency);
  const site = new RemoteLoad({ port: p.httpsPort, host: HOST, path: '/some/client/route', ca: p.caRoot }, concurrency);
  try {
    const t0 = Date.now();
    log(`phase 1: ${concurrency} workers on /api/ping and ${concurrency} on /some/client/route; ${steadyS}s steady`);
    await sleep(steadyS * 1000);
    const steadyEnd = Date.now();
    let n = 1;
    const opMs: Record<string, number[]> = { deploy: [], rollback: [] };
    for (const op of ops()) {
      const r = await timed(p, op === 'deploy' ? ['config', 'set', 'spa', `VERSION=d${++n}`] : ['rollback', 'spa']);
      if (r.code !== 0) throw new Error(`${op} failed: ${r.stderr}`);
      opMs[op]!.push(r.ms);
      const so = (l: RemoteLoad) => `${l.result.total}/${l.result.failed}`;
      log(`  ${op}: ${Math.round(r.ms)} ms; so far api ${so(api)} failed, static ${so(site)} failed`);
    }
    const opsEnd = Date.now();
    await sleep(500);
    const [a, s] = [await api.stop(), await site.stop()];
    const both = (from: number, to: number) => [...inWindow(a, from, to), ...inWindow(s, from, to)];
    return {
      total: a.total + s.total, failed: a.failed + s.failed, failed_api: a.failed, failed_static: s.failed,
      p99_steady_ms: stats(both(t0 + 500, steadyEnd)).p99_ms, p99_deploy_ms: stats(both(steadyEnd, opsEnd)).p99_ms,
      p99_api_deploy_ms: stats(inWindow(a, steadyEnd, opsEnd)).p99_ms, p99_static_deploy_ms: stats(inWindow(s, steadyEnd, opsEnd)).p99_ms,
      deploys: opMs.deploy!.length, rollbacks: opMs.rollback!.length,
      deploy_wall_ms_median: round(stats(opMs.deploy!).p50_ms, 0), rollback_wall_ms_median: round(stats(opMs.rollback!).p50_ms, 0),
      failures: { ...a.failures, ...s.failures },
    };
  } finally {
    await api.stop();
    await site.stop();
  }
}

async function othersPhase(p: Platform) {
  const api = new RemoteLoad({ port: p.httpsPort, host: HOST, path: '/api/ping', ca: p.caRoot }, concurrency);
  const site = new RemoteLoad({ port: p.httpsPort, host: HOST, path: '/', ca: p.caRoot }, concurrency);
  const ws = await openWs(p);
  let disconnects = 0;
  let messages = 0;
  ws.on('close', () => { disconnects++; });
  ws.on('message', () => { messages++; });
  let changes = 0;
  try {
    log(`phase 2: ${others} other apps created, a domain added and removed, deleted (${others * 4} route changes), a WebSocket open`);
    await sleep(1000);
    for (let i = 1; i <= others; i++) {
      await p.ok(['apps', 'create', `o${i}`, '--domain', `o${i}.localhost`]);
      await p.ok(['domains', 'add', `o${i}`, `www.o${i}.localhost`]);
      await p.ok(['domains', 'remove', `o${i}`, `www.o${i}.localhost`]);
      changes += 3;
    }
    for (let i = 1; i <= others; i++) {
      await p.ok(['apps', 'delete', `o${i}`, '--yes']);
      changes++;
    }
    await sleep(1500);
    const [a, s] = [await api.stop(), await site.stop()];
    return {
      route_changes: changes, others_total: a.total + s.total, others_failed: a.failed + s.failed,
      ws_disconnects: disconnects, ws_messages: messages, ws_open_at_end: ws.readyState === WebSocket.OPEN,
      others_failures: { ...a.failures, ...s.failures },
    };
  } finally {
    ws.terminate();
    await api.stop();
    await site.stop();
  }
}

main('appspec', () => withPlatform(async (p) => {
  const dir = copyFixtureApp('spa');
  try {
    await p.ok(['apps', 'create', 'spa', '--domain', HOST]);
    const first = await p.berth(['deploy', 'spa'], { cwd: dir, timeoutMs: 300_000 });
    if (first.code !== 0) throw new Error(`the first deploy failed: ${first.stderr}`);
    return { ...await deployPhase(p), ...await othersPhase(p) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, ['--services', 'none']));
