// The daemon at rest: resident memory (VmRSS) right after start and after creating and
// deploying many apps, each measured after some idle seconds, and the CPU time it uses while
// idle (utime+stime from /proc/<pid>/stat). The daemon reconciles every 15 s, so CPU is
// measured over 10 s (as asked) and also over 30 s, which always contains reconcile passes.
//
//   npm run bench -- idle [--apps 100] [--parallel 4] [--settle 5] [--window 10] [--long-window 30]
import { SAMPLE, sleep, type Platform } from '../test/helpers/platform.js';
import { CLK_TCK, cpuTicks } from './lib/cpu.js';
import { containerMemByName, containerMemMb, log, main, median, numArg, round, rssMb, timed, withPlatform } from './lib/common.js';

const apps = numArg('apps', 100);
const parallel = Math.max(1, numArg('parallel', 4));
const settleS = numArg('settle', 5);
const windowS = numArg('window', 10);
const longWindowS = numArg('long-window', 30);

async function idleCpuPct(pid: number, seconds: number): Promise<number> {
  const t0 = performance.now();
  const c0 = cpuTicks(pid);
  await sleep(seconds * 1000);
  const c1 = cpuTicks(pid);
  const wall = (performance.now() - t0) / 1000;
  return round(((c1 - c0) / CLK_TCK / wall) * 100, 2);
}

const caddyMemMb = async (p: Platform) => (await containerMemMb(p, 'berth.role=proxy'))[0] ?? null;

async function measure(p: Platform, pid: number, label: string) {
  await sleep(settleS * 1000);
  const rss = rssMb(pid);
  const cpu = await idleCpuPct(pid, windowS);
  const cpuLong = longWindowS > 0 ? await idleCpuPct(pid, longWindowS) : null;
  const rssAfter = rssMb(pid);
  const caddy = await caddyMemMb(p);
  log(`${label}: daemon VmRSS ${rss} MB (${rssAfter} MB after the CPU windows), idle CPU ${cpu}% over ${windowS}s, ${cpuLong}% over ${longWindowS}s; Caddy ${caddy} MB`);
  return { rss, rssAfter, cpu, cpuLong, caddy };
}

main('idle', () => withPlatform(async (p) => {
  const pid = p.daemonPid();
  if (!pid) throw new Error('no daemon pid');
  const start = await measure(p, pid, 'after start');

  log(`creating and deploying ${apps} apps, ${parallel} at a time`);
  const deployMs: number[] = [];
  let next = 1;
  let done = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next <= apps) {
      const n = next++;
      await p.ok(['apps', 'create', `app${n}`, '--domain', `app${n}.localhost`]);
      const r = await timed(p, ['deploy', `app${n}`, '--image', SAMPLE]);
      deployMs[n - 1] = r.ms;
      if (++done % 10 === 0) log(`  ${done}/${apps} deployed; daemon VmRSS ${rssMb(pid)} MB`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, apps) }, worker));
  const createS = (performance.now() - t0) / 1000;
  const running = (await p.containers()).filter((c) => c.state === 'running' && c.app).length;
  const status = await p.json<{ daemon: { rss_mb: number }; proxy: { routes?: number }; apps: unknown[] }>(['status']);
  log(`${running} app containers running, ${status.apps.length} apps, ${status.proxy.routes} routes in Caddy; status says daemon rss ${status.daemon.rss_mb} MB`);
  const after = await measure(p, pid, `after ${apps} apps`);
  // Spot-check that the apps still answer through Caddy.
  const sample = apps ? [...new Set([1, Math.ceil(apps / 2), apps])] : [];
  const answers = await Promise.all(sample.map((n) => p.get(`app${n}.localhost`).then((r) => r.status, (e) => String(e))));
  const tenth = Math.max(1, Math.floor(apps / 10));
  return {
    rss_start_mb: start.rss,
    rss_100_apps_mb: after.rss,
    apps,
    idle_cpu_pct: after.cpu,
    idle_cpu_pct_start: start.cpu,
    idle_cpu_pct_long: after.cpuLong,
    idle_cpu_pct_long_start: start.cpuLong,
    long_window_s: longWindowS,
    rss_start_after_windows_mb: start.rssAfter,
    rss_apps_after_windows_mb: after.rssAfter,
    caddy_mem_start_mb: start.caddy,
    caddy_mem_apps_mb: after.caddy,
    create_and_deploy_s: round(createS, 1),
    parallel,
    deploy_ms_median_first_10pct: Math.round(median(deployMs.slice(0, tenth))),
    deploy_ms_median_last_10pct: Math.round(median(deployMs.slice(-tenth))),
    running_app_containers: running,
    routes: status.proxy.routes,
    spot_check: Object.fromEntries(sample.map((n, i) => [`app${n}`, answers[i]])),
    // the whole platform at rest with the apps deployed, by component (apps' own containers apart)
    memory_mb: { daemon: rssMb(pid), ...await containerMemByName(p, 'berth.role=proxy'), ...await containerMemByName(p, 'berth.role=service') },
    apps_containers_mb: round((await containerMemMb(p, 'berth.role=app')).reduce((a, b) => a + b, 0), 1),
  };
}));
