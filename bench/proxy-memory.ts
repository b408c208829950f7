// What stream_close_delay costs: Caddy keeps each config generation that an open stream was
// proxied under until the delay ends. Two phases on one platform (app b serves WebSockets):
//   1. control: N config changes (a domain added to / removed from app x) with no stream open;
//   2. the same N changes, opening one more WebSocket to app b after each and keeping all open.
// Caddy's resident memory (VmRSS of its process) is sampled every --every changes.
//
//   npm run bench -- proxy-memory [--loads 200] [--every 50] [--apps 10]
import WebSocket from 'ws';
import { docker, type Platform, SAMPLE, sleep } from '../test/helpers/platform.js';
import { log, main, numArg, round, rssMb, withPlatform } from './lib/common.js';

const loads = numArg('loads', 200);
const every = Math.max(1, numArg('every', 50));
const apps = numArg('apps', 10);

async function caddyRssMb(p: Platform): Promise<number> {
  const info = await docker.getContainer(`${p.instance}-caddy`).inspect();
  return rssMb(info.State.Pid);
}

function openWs(p: Platform): Promise<WebSocket> {
  const ws = new WebSocket(`wss://127.0.0.1:${p.httpsPort}/ws`, { headers: { host: 'b.localhost' }, servername: 'b.localhost', ca: p.caRoot } as unknown as WebSocket.ClientOptions);
  return new Promise((res, rej) => { ws.once('open', () => res(ws)); ws.once('error', rej); });
}

async function phase(p: Platform, name: string, withStreams: boolean, streams: WebSocket[]) {
  const samples: { loads: number; rss_mb: number; open_streams: number }[] = [];
  const sample = async (n: number) => {
    await sleep(1000); // let Go's allocator settle a moment
    samples.push({ loads: n, rss_mb: await caddyRssMb(p), open_streams: streams.filter((w) => w.readyState === WebSocket.OPEN).length });
    log(`  ${name}: ${n} config changes, Caddy ${samples.at(-1)!.rss_mb} MB, ${samples.at(-1)!.open_streams} streams open`);
  };
  await sample(0);
  for (let i = 1; i <= loads; i++) {
    await p.ok(['domains', i % 2 ? 'add' : 'remove', 'x', 'www.x.localhost']);
    if (withStreams) streams.push(await openWs(p));
    if (i % every === 0) await sample(i);
  }
  return samples;
}

main('proxy-memory', () => withPlatform(async (p) => {
  await p.ok(['apps', 'create', 'b', '--domain', 'b.localhost', '--no-db', '--no-redis', '--no-bucket']);
  await p.ok(['deploy', 'b', '--image', SAMPLE]);
  for (let i = 0; i < apps; i++) await p.ok(['apps', 'create', i ? `x${i}` : 'x', '--domain', `${i ? `x${i}` : 'x'}.localhost`, '--no-db', '--no-redis', '--no-bucket']);
  const streams: WebSocket[] = [];
  try {
    log(`phase 1: ${loads} config changes, no stream open`);
    const control = await phase(p, 'control', false, streams);
    log(`phase 2: ${loads} config changes, a new WebSocket to app b after each, all kept open`);
    const withStreams = await phase(p, 'streams', true, streams);
    const growth = (s: typeof control) => round(s.at(-1)!.rss_mb - s[0]!.rss_mb, 1);
    return {
      loads, routes: apps + 1, control, with_streams: withStreams,
      control_growth_mb: growth(control), streams_growth_mb: growth(withStreams),
      kb_per_retained_config: round((growth(withStreams) * 1024) / loads, 0),
      streams_still_open: streams.filter((w) => w.readyState === WebSocket.OPEN).length,
    };
  } finally {
    streams.forEach((w) => w.terminate());
  }
}, ['--services', 'none']));
