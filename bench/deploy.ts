// Zero-downtime deploys under load, against the naive way of replacing a container.
//
// One platform, two apps. App a: constant HTTPS load through Caddy while berth rolls out 10
// releases and 5 rollbacks (pattern: deploy, deploy, rollback). App b (baseline): the same load
// while its serving container is replaced the naive way 10 times: stop it, remove it, create a
// new one with the same name, config and network, start it. Caddy's route and retry settings are
// the same for both; during the baseline the berth daemon is paused (SIGSTOP) so that its
// reconcile loop cannot step in and repair the gap. Peer (between the two): the same sample
// releases on the same engine and network behind kamal-proxy, switched with `kamal-proxy deploy`
// in the same op pattern under the same load (see lib/kamal-proxy.ts). Its binary is built with
// Go once and cached in /var/cache/berth-bench (BERTH_BENCH_CACHE). Docker only (before the peer):
// the same load while the engine alone starts and retires containers as berth's deploys made it,
// so that each p99_ratio (deploy window against steady state) can be read against the engine's own.
// Both phases say who spent the CPU (lib/cpu.ts) in the steady state and in the window
// (`cpu_steady_s`, `cpu_s`): berth's CLIs, its daemon, Caddy and the engine.
//
//   npm run bench -- deploy [--concurrency 8] [--steady 5] [--deploys 10] [--rollbacks 5] [--replacements 10] [--startup-ms 0] [--lock-timeout 30s]
import type { LoadResult } from '../test/helpers/load.js';
import { RemoteLoad } from './lib/remote-load.js';
import { docker, SAMPLE, settledReleases, sleep, until, type Platform } from '../test/helpers/platform.js';
import { cpuSample, cpuSpent } from './lib/cpu.js';
import { arg, log, main, numArg, opsPattern, round, stats, timed, withPlatform } from './lib/common.js';
import { ensureKamalProxy, KAMAL_PROXY_TAG, removePeer, retirePeerRelease, startKamalProxy, startPeerRelease } from './lib/kamal-proxy.js';

const concurrency = numArg('concurrency', 8);
const steadyS = numArg('steady', 5);
const deploys = numArg('deploys', 10);
const rollbacks = numArg('rollbacks', 5);
const replacements = numArg('replacements', 10);
const startupMs = numArg('startup-ms', 0); // STARTUP_DELAY_MS of both apps: an app that takes a while to listen
// Passed to every op as --lock-timeout when set (e.g. 30s): back-to-back ops then wait for the
// daemon's own work on the app instead of failing with exit 5 (locked).
const lockTimeout = arg('lock-timeout', '');

const inWindow = (r: LoadResult, from: number, to: number) => r.latencies.filter((l) => l.at >= from && l.at <= to).map((l) => l.ms);

// The load runs in its own process: latencies are not inflated by this process spawning CLIs.
function loadOn(p: Platform, host: string): RemoteLoad {
  return new RemoteLoad({ port: p.httpsPort, host, ca: p.caRoot }, concurrency);
}

/** Stops the load half a second after the ops end: its steady state (the first 0.5 s, which
 *  opens connections, left out), the ops' window, and the requests in it over 1 s. */
async function measured(load: RemoteLoad, t0: number, steadyEnd: number, end: number) {
  await sleep(500);
  const res = await load.stop();
  const inOps = inWindow(res, steadyEnd, end);
  return { res, steady: stats(inWindow(res, t0 + 500, steadyEnd)), during: stats(inOps), over1s: inOps.filter((ms) => ms > 1000).length };
}

/** The ops of the berth phase: rollbacks spread evenly among the deploys (10 and 5: D D R five times). */
const plan = () => opsPattern(deploys, rollbacks);

async function berthPhase(p: Platform) {
  const host = 'a.localhost';
  const load = loadOn(p, host);
  try {
    return await berthOps(p, load);
  } finally {
    await load.stop(); // idempotent: stops the workers if an op failed
  }
}

async function berthOps(p: Platform, load: RemoteLoad) {
  const t0 = Date.now();
  log(`app a: ${concurrency} workers of load; ${steadyS}s steady state`);
  const cpuStart = await cpuSample(p);
  await sleep(steadyS * 1000);
  const steadyEnd = Date.now();
  const cpu0 = await cpuSample(p);
  const ops = plan();
  const opTimes: { op: string; ms: number; steps: Record<string, number> }[] = [];
  let n = 1;
  for (const op of ops) {
    const args = [...(op === 'deploy' ? ['config', 'set', 'a', `VERSION=d${++n}`] : ['rollback', 'a']), ...(lockTimeout ? ['--lock-timeout', lockTimeout] : [])];
    const r = await timed(p, args);
    opTimes.push({ op, ms: r.ms, steps: r.steps });
    log(`  ${args.join(' ')}: ${Math.round(r.ms)} ms (${Object.entries(r.steps).map(([k, v]) => `${k} ${v}`).join(', ')}); so far ${load.result.total} requests, ${load.result.failed} failed`);
  }
  const deployEnd = Date.now();
  const cpu = cpuSpent(cpu0, await cpuSample(p));
  const { res, steady, during, over1s } = await measured(load, t0, steadyEnd, deployEnd);
  const opMs = (k: string) => opTimes.filter((o) => o.op === k).map((o) => o.ms);
  return {
    total: res.total, failed: res.failed,
    p50_steady_ms: steady.p50_ms, p99_steady_ms: steady.p99_ms,
    p50_deploy_ms: during.p50_ms, p99_deploy_ms: during.p99_ms, max_deploy_ms: during.max_ms, p99_ratio: round(during.p99_ms / steady.p99_ms, 2),
    over_1s: over1s,
    deploys: opMs('deploy').length, rollbacks: opMs('rollback').length,
    deploy_wall_ms_median: round(stats(opMs('deploy')).p50_ms, 0), rollback_wall_ms_median: round(stats(opMs('rollback')).p50_ms, 0),
    op_wall_ms_max: round(Math.max(0, ...opTimes.map((o) => o.ms)), 0),
    retire_ms_max: Math.max(0, ...opTimes.map((o) => o.steps.retire ?? 0)), // stopping the older warm release, inside the command
    ops_window_s: round((deployEnd - steadyEnd) / 1000, 1),
    cpu_steady_s: cpuSpent(cpuStart, cpu0), cpu_s: cpu,
    failures: res.failures, versions_seen: res.bodies,
  };
}

/** Docker's share of a deploy's latency: the same load on app a while nothing of berth runs, and
 *  the engine does what berth's deploys make it do: for each deploy of the op pattern a sample
 *  container is created and started, waited for until it answers its health check, and the one
 *  before the last is stopped and removed (berth's retire of its older warm release). Rollbacks
 *  do nothing here. What berth's p99 adds to this one is berth's own (its CLI, daemon and the proxy's switch). */
async function dockerOnlyPhase(p: Platform) {
  const load = loadOn(p, 'a.localhost');
  const releaseEnv = startupMs ? [`STARTUP_DELAY_MS=${startupMs}`] : [];
  const started: string[] = [];
  try {
    const t0 = Date.now();
    log(`docker only: ${concurrency} workers of load on app a; ${steadyS}s steady state, then the engine's part of each deploy`);
    const cpuStart = await cpuSample(p);
    await sleep(steadyS * 1000);
    const steadyEnd = Date.now();
    const cpu0 = await cpuSample(p);
    let n = 0;
    for (const op of plan()) {
      if (op !== 'deploy') continue;
      const name = await startPeerRelease(p, SAMPLE, `dk${++n}`, releaseEnv);
      started.push(name);
      const ip = (await docker.getContainer(name).inspect()).NetworkSettings.Networks[p.instance]!.IPAddress;
      await until(async () => (await fetch(`http://${ip}:8000/health`).catch(() => null))?.status === 200, 15_000, `${name} to answer`);
      if (started.length > 2) await retirePeerRelease(started.shift()!);
    }
    const end = Date.now();
    const cpu = cpuSpent(cpu0, await cpuSample(p));
    const { res, steady, during, over1s } = await measured(load, t0, steadyEnd, end);
    return {
      total: res.total, failed: res.failed, over_1s: over1s, starts: n, cpu_steady_s: cpuSpent(cpuStart, cpu0), cpu_s: cpu,
      p99_steady_ms: steady.p99_ms, p99_window_ms: during.p99_ms, p99_ratio: round(during.p99_ms / steady.p99_ms, 2),
      window_s: round((end - steadyEnd) / 1000, 1),
    };
  } finally {
    await load.stop();
    await removePeer(p);
  }
}

/** kamal-proxy switching releases of the sample under the same load and op pattern as berth's phase. */
async function peerPhase(p: Platform, image: string) {
  const host = 'a-peer.localhost';
  const releaseEnv = startupMs ? [`STARTUP_DELAY_MS=${startupMs}`] : [];
  try {
    const kp = await startKamalProxy(p, image, host);
    let live = await startPeerRelease(p, SAMPLE, 'p1', releaseEnv);
    await kp.deploy(live);
    // Mirrors berth's releases: the live one and a warm previous one, to which a rollback returns.
    let warm: string | null = null;
    const load = new RemoteLoad({ port: kp.httpsPort, host, ca: kp.ca }, concurrency);
    try {
      const t0 = Date.now();
      log(`peer: ${concurrency} workers of load on kamal-proxy ${KAMAL_PROXY_TAG} (https port ${kp.httpsPort}); ${steadyS}s steady state`);
      await sleep(steadyS * 1000);
      const steadyEnd = Date.now();
      const opTimes: { op: string; ms: number; switchMs: number }[] = [];
      let n = 1;
      for (const op of plan()) {
        const t = performance.now();
        let switchMs: number;
        let detail = '';
        if (op === 'deploy') {
          const next = await startPeerRelease(p, SAMPLE, `p${++n}`, releaseEnv);
          const started = performance.now();
          switchMs = await kp.deploy(next); // waits for its health check, then drains the old target
          const retire = performance.now();
          if (warm) await retirePeerRelease(warm);
          detail = `start ${Math.round(started - t)}, retire ${Math.round(performance.now() - retire)}, `;
          [live, warm] = [next, live];
        } else {
          if (!warm) throw new Error('peer: a rollback with no warm release');
          switchMs = await kp.deploy(warm);
          [live, warm] = [warm, live];
        }
        const ms = performance.now() - t;
        opTimes.push({ op, ms, switchMs });
        log(`  peer ${op} to ${live.slice(p.instance.length + 1)}: ${Math.round(ms)} ms (${detail}kamal-proxy deploy ${Math.round(switchMs)}); so far ${load.result.total} requests, ${load.result.failed} failed`);
      }
      const deployEnd = Date.now();
      const { res, steady, during, over1s } = await measured(load, t0, steadyEnd, deployEnd);
      const of = (k: string, f: (o: (typeof opTimes)[number]) => number) => round(stats(opTimes.filter((o) => o.op === k).map(f)).p50_ms, 0);
      return {
        version: KAMAL_PROXY_TAG, tls: true,
        total: res.total, failed: res.failed,
        p50_steady_ms: steady.p50_ms, p99_steady_ms: steady.p99_ms,
        p50_deploy_ms: during.p50_ms, p99_deploy_ms: during.p99_ms, max_deploy_ms: during.max_ms, p99_ratio: round(during.p99_ms / steady.p99_ms, 2),
        over_1s: over1s,
        deploys: opTimes.filter((o) => o.op === 'deploy').length, rollbacks: opTimes.filter((o) => o.op === 'rollback').length,
        // A rollback's `kamal-proxy deploy` switches to a target that is already healthy (cf. berth's rollback_wall_ms_median).
        switch_ms_median: of('rollback', (o) => o.switchMs),
        deploy_switch_ms_median: of('deploy', (o) => o.switchMs), // includes its health check of the just-started release
        deploy_wall_ms_median: of('deploy', (o) => o.ms), // start the release, kamal-proxy deploy, retire the older warm one
        ops_window_s: round((deployEnd - steadyEnd) / 1000, 1),
        failures: res.failures, versions_seen: res.bodies,
      };
    } finally {
      await load.stop();
    }
  } finally {
    await removePeer(p); // the baseline then runs without the peer's containers
  }
}

/** Stops and removes the container, then creates and starts one with the same name, config and network. */
async function naiveReplace(name: string, version: string): Promise<{ gapMs: number; stopMs: number }> {
  const old = docker.getContainer(name);
  const info = await old.inspect();
  const network = info.HostConfig.NetworkMode!;
  const t0 = performance.now();
  await old.stop({ t: 10 }).catch((e: { statusCode?: number }) => { if (e.statusCode !== 304) throw e; });
  const stopMs = performance.now() - t0;
  await old.remove({ force: true });
  const c = await docker.createContainer({
    name,
    Image: info.Config.Image,
    Env: info.Config.Env.map((e) => (e.startsWith('VERSION=') ? `VERSION=${version}` : e)),
    Cmd: info.Config.Cmd,
    Labels: info.Config.Labels,
    HostConfig: {
      NetworkMode: network, RestartPolicy: info.HostConfig.RestartPolicy, LogConfig: info.HostConfig.LogConfig, Init: info.HostConfig.Init ?? undefined,
    },
    NetworkingConfig: { EndpointsConfig: { [network]: {} } },
  });
  await c.start();
  return { gapMs: performance.now() - t0, stopMs };
}

async function baselinePhase(p: Platform) {
  const host = 'b.localhost';
  const name = `${p.instance}-b-web`;
  const pid = p.daemonPid();
  if (!pid) throw new Error('no daemon pid');
  process.kill(pid, 'SIGSTOP');
  log(`daemon ${pid} paused for the baseline`);
  const load = loadOn(p, host);
  try {
    const t0 = Date.now();
    await sleep(steadyS * 1000);
    const steadyEnd = Date.now();
    const gaps: number[] = [];
    const stops: number[] = [];
    const served: number[] = [];
    for (let i = 1; i <= replacements; i++) {
      const t = performance.now();
      const r = await naiveReplace(name, `b${i + 1}`);
      gaps.push(r.gapMs);
      stops.push(r.stopMs);
      // Wait until the load sees the new container serve (bounded), so replacements do not overlap.
      const seen = await until(async () => (load.result.bodies[`b${i + 1}`] ?? 0) > 0, 15_000, `b${i + 1} to serve`)
        .then(() => performance.now() - t, () => NaN);
      served.push(seen);
      log(`  naive replacement ${i}: stop ${Math.round(r.stopMs)} ms, stop..started ${Math.round(r.gapMs)} ms, new version first answered ${Math.round(seen)} ms after the stop began; so far ${load.result.total} requests, ${load.result.failed} failed`);
      await sleep(1000);
    }
    const end = Date.now();
    const { res, steady, during, over1s } = await measured(load, t0, steadyEnd, end);
    return {
      total: res.total, failed: res.failed, replacements,
      p50_steady_ms: steady.p50_ms, p99_steady_ms: steady.p99_ms,
      p50_replace_ms: during.p50_ms, p99_replace_ms: during.p99_ms, max_replace_ms: during.max_ms,
      over_1s: over1s,
      stop_ms_median: round(stats(stops).p50_ms, 0), stop_to_started_ms_median: round(stats(gaps).p50_ms, 0),
      new_version_served_ms_median: round(stats(served.filter((x) => !Number.isNaN(x))).p50_ms, 0), new_version_never_seen: served.filter((x) => Number.isNaN(x)).length,
      failures: res.failures, versions_seen: res.bodies,
    };
  } finally {
    await load.stop();
    process.kill(pid, 'SIGCONT');
    log(`daemon ${pid} resumed`);
  }
}

async function benchmark(p: Platform, peerImage: string) {
  for (const app of ['a', 'b']) {
    await p.ok(['apps', 'create', app, '--domain', `${app}.localhost`]);
    await p.ok(['config', 'set', app, `VERSION=${app === 'a' ? 'd1' : 'b1'}`, ...(startupMs ? [`STARTUP_DELAY_MS=${startupMs}`] : []), '--no-deploy']);
    await p.ok(['deploy', app, '--image', SAMPLE]);
    await until(async () => (await p.get(`${app}.localhost`)).status === 200, 10_000, `${app} to serve`);
  }
  log('phase 1: berth deploys and rollbacks of app a under load');
  const berth = await berthPhase(p);
  log(`berth: ${JSON.stringify(berth)}`);
  await settledReleases(p, 'a'); // berth's own work on app a is over before the others are measured
  log('phase 2: the engine alone doing what the deploys made it do, under the same load on app a');
  const dockerOnly = await dockerOnlyPhase(p);
  log(`docker only: ${JSON.stringify(dockerOnly)}`);
  log(`phase 3: kamal-proxy ${KAMAL_PROXY_TAG} switching the same sample releases under the same load`);
  const peer = await peerPhase(p, peerImage);
  log(`peer: ${JSON.stringify(peer)}`);
  log('phase 4: naive container replacement of app b under load');
  const baseline = await baselinePhase(p);
  log(`baseline: ${JSON.stringify(baseline)}`);
  return { concurrency, startup_delay_ms: startupMs, lock_timeout: lockTimeout || null, berth, peer, docker_only: dockerOnly, baseline };
}

main('deploy', async () => {
  const peerImage = await ensureKamalProxy(); // before the platform: a first build takes minutes
  return withPlatform((p) => benchmark(p, peerImage));
});
