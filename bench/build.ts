// Does a build starve the apps that serve? An app under HTTPS load through Caddy (each request
// costs it some CPU), measured while nothing else runs, then while a CPU-heavy build (a RUN step
// that keeps every core busy with a fixed amount of work) runs at the engine's default weight
// (docker-buildx run by hand, as `docker buildx build` would), then while berth builds the same
// work (`berth deploy --build`: its steps at the low CPU weight of src/runtime/build/cpu-weight.ts).
// Requests, failures, p99 and the build's duration per phase, in interleaved rounds.
//
//   npm run bench -- build [--concurrency 8] [--steady 8] [--work 3] [--rounds 2]   (work: million SHA-256 rounds per core)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLines } from '../src/exec/run.js';
import { findBuildx } from '../src/runtime/build/buildx-install.js';
import { buildxArgv, buildxEnv } from '../src/runtime/build/buildx-plan.js';
import { buildkitWeightPlan } from '../src/runtime/build/cpu-weight.js';
import { percentile } from '../test/helpers/load.js';
import { BIN, docker, type Platform, SAMPLE, sleep } from '../test/helpers/platform.js';
import { RemoteLoad } from './lib/remote-load.js';
import { log, main, numArg, round, withPlatform } from './lib/common.js';

const concurrency = numArg('concurrency', 8);
const steadyS = numArg('steady', 8);
const work = numArg('work', 3);
const rounds = numArg('rounds', 2);
const cores = cpus().length;

/** A Dockerfile whose one RUN step keeps every core busy for `work` million hash rounds each;
 *  the token makes the step new, so it is never taken from the cache. */
function heavyContext(token: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-build-'));
  const script = `const { Worker } = require('worker_threads');
const body = "const c = require('crypto'); let h = Buffer.alloc(32); for (let i = 0; i < ${work * 1e6}; i++) h = c.createHash('sha256').update(h).digest();";
let left = ${cores};
for (let i = 0; i < ${cores}; i++) new Worker(body, { eval: true }).on('exit', () => { if (--left === 0) console.log('done ${token}'); });`;
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${SAMPLE}\nRUN ${JSON.stringify(['/usr/bin/node', '-e', script])}\n`);
  return dir;
}

/** The app under load: each request costs about 1.5 ms of CPU (SHA-256 rounds), so a build that
 *  takes its CPU shows in its latency. Built by berth itself from this directory. */
function servingContext(): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-serve-'));
  writeFileSync(join(dir, 'server.js'), `const c = require('crypto');
require('http').createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  let h = Buffer.alloc(32);
  for (let i = 0; i < 1000; i++) h = c.createHash('sha256').update(h).digest();
  res.end(h.toString('hex').slice(0, 8));
}).listen(8000);
`);
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${SAMPLE}\nCOPY server.js /app/server.js\n`);
  return dir;
}

interface Window { from: number; to: number }
interface Phase { requests: number; failed: number; p99_ms: number; p50_ms: number; build_s: number }

/** Runs `during` under load; the phase's numbers are of the requests that started within the
 *  window it returns (the build alone, not what a deploy does after it). */
async function underLoad(p: Platform, name: string, during: () => Promise<Window>): Promise<Phase> {
  const load = new RemoteLoad({ port: p.httpsPort, host: 'serve.localhost', ca: p.caRoot }, concurrency);
  await sleep(1000); // the load's connections open before the phase starts
  const w = await during();
  const r = await load.stop();
  const inside = r.latencies.filter((l) => l.at - l.ms >= w.from && l.at <= w.to).map((l) => l.ms);
  const out = {
    requests: inside.length, failed: r.failed, p99_ms: round(percentile(inside, 99)), p50_ms: round(percentile(inside, 50)),
    build_s: round((w.to - w.from) / 1000),
  };
  log(`${name}: ${JSON.stringify(out)}`);
  return out;
}

/** berth deploy --build, its build step's window taken from the progress lines as they come. */
async function berthBuild(p: Platform, ctx: string): Promise<Window> {
  const from = Date.now();
  let to = 0;
  let weight = '';
  const r = await runLines([BIN, 'deploy', 'heavy', '--build', ctx, '--timeout', '60s'], (line) => {
    if (/✓ build \(/.test(line)) to = Date.now();
    if (/build steps run at CPU weight|build CPU weight not lowered/.test(line)) weight = line.trim();
  }, { env: p.env(), timeoutMs: 10 * 60_000 });
  if (r.code !== 0 || !to) throw new Error(`berth deploy --build exited ${r.code}`);
  log(`  ${weight}`);
  return { from, to };
}

/** The same build as `docker buildx build` runs it: the engine's default weight, no nice. */
async function plainBuild(buildx: string, ctx: string, weightFile: string, defaultWeight: string): Promise<Window> {
  const stateDir = mkdtempSync(join(tmpdir(), 'berth-bench-buildx-'));
  const before = readFileSync(weightFile, 'utf8').trim();
  try {
    writeFileSync(weightFile, defaultWeight);
    const argv = buildxArgv({ binary: buildx, context: ctx, dockerfile: 'Dockerfile', args: {}, labels: {}, iidFile: join(stateDir, 'iid') });
    const from = Date.now();
    const r = await runLines(argv.slice(argv.indexOf(buildx)), () => undefined, { env: buildxEnv('/var/run/docker.sock', stateDir), timeoutMs: 10 * 60_000 });
    if (r.code !== 0) throw new Error(`docker-buildx exited ${r.code}`);
    return { from, to: Date.now() };
  } finally {
    writeFileSync(weightFile, before);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const merge = (ps: Phase[]): Phase => ({
  requests: ps.reduce((a, x) => a + x.requests, 0), failed: ps.reduce((a, x) => a + x.failed, 0),
  p99_ms: round(Math.max(...ps.map((x) => x.p99_ms))), p50_ms: round(Math.max(...ps.map((x) => x.p50_ms))),
  build_s: round(ps.reduce((a, x) => a + x.build_s, 0)),
});

main('build', () => withPlatform(async (p) => {
  const buildx = findBuildx();
  if (!buildx) throw new Error('no docker-buildx: berth up fetches it');
  const info = await docker.info() as { CgroupDriver?: string; CgroupVersion?: string };
  const plan = buildkitWeightPlan(info);
  if (!plan.ok) throw new Error(plan.reason);
  const weightFile = join(plan.dir, plan.file);
  const defaultWeight = plan.file === 'cpu.shares' ? '1024' : '100';
  const serveCtx = servingContext();
  for (const app of ['serve', 'heavy']) {
    await p.ok(['apps', 'create', app, '--domain', `${app}.localhost`, '--no-db', '--no-redis', '--no-bucket']);
    // heavy's route exists before its builds: they change no route
    await p.ok(['deploy', app, ...(app === 'serve' ? ['--build', serveCtx] : ['--image', SAMPLE])]);
  }
  rmSync(serveCtx, { recursive: true, force: true });
  log(`${cores} cores; load: ${concurrency} connections on serve.localhost; build: ${work}M SHA-256 rounds on each core; ${rounds} rounds`);
  const phases: Record<'steady' | 'plain' | 'berth', Phase[]> = { steady: [], plain: [], berth: [] };
  // interleaved rounds: the machine is shared, and what else runs on it changes over minutes
  for (let i = 0; i < rounds; i++) {
    phases.steady.push(await underLoad(p, `round ${i + 1}: steady`, async () => {
      const from = Date.now();
      await sleep(steadyS * 1000);
      return { from, to: Date.now() };
    }));
    const plainCtx = heavyContext(`plain-${Date.now()}`);
    phases.plain.push(await underLoad(p, `round ${i + 1}: build at the default weight`, () => plainBuild(buildx, plainCtx, weightFile, defaultWeight))
      .finally(() => rmSync(plainCtx, { recursive: true, force: true })));
    const berthCtx = heavyContext(`berth-${Date.now()}`);
    phases.berth.push(await underLoad(p, `round ${i + 1}: berth deploy --build`, () => berthBuild(p, berthCtx))
      .finally(() => rmSync(berthCtx, { recursive: true, force: true })));
  }
  const [steady, plain, berth] = [merge(phases.steady), merge(phases.plain), merge(phases.berth)];
  return {
    cores, concurrency, work_m_rounds_per_core: work, rounds,
    phases: { steady, default_weight: plain, berth },
    total: steady.requests + plain.requests + berth.requests, failed: steady.failed + plain.failed + berth.failed,
    rps_steady: round(steady.requests / steady.build_s), rps_build_default_weight: round(plain.requests / plain.build_s),
    rps_build_berth: round(berth.requests / berth.build_s),
    build_s_default_weight: plain.build_s, build_s_berth: berth.build_s,
    p99_steady_ms: steady.p99_ms, p99_build_default_weight_ms: plain.p99_ms, p99_build_berth_ms: berth.p99_ms,
  };
}, ['--services', 'none']));
