// Creating apps with all three shared services on one machine: seconds per `berth apps
// create` (a network of its own, a database and role, a Redis ACL user and a bucket each), then
// the resident memory of each component at rest: the daemon, the proxy and each service container. The services worker (a child of the
// daemon kept warm while jobs come in) is measured right after the last create, and must have
// exited by the time the platform is at rest (it leaves after 20 s without a job).
//
//   npm run bench -- apps [--apps 30] [--settle 25]
import { docker, sleep } from '../test/helpers/platform.js';
import { childrenRssMb, containerMemByName, containerMemMb, log, main, median, numArg, round, rssMb, timed, withPlatform } from './lib/common.js';

const apps = numArg('apps', 30);
const settleS = numArg('settle', 25);

main('apps', () => withPlatform(async (p) => {
  const times: number[] = [];
  for (let i = 1; i <= apps; i++) {
    const r = await timed(p, ['apps', 'create', `app${i}`, '--domain', `app${i}.localhost`]);
    if (r.code !== 0) throw new Error(`apps create app${i} failed: ${r.stderr}`);
    times.push(r.ms);
    if (i % 10 === 0) log(`${i} apps created; this one took ${Math.round(r.ms)} ms`);
  }
  const pid = p.daemonPid()!;
  const workerWarm = childrenRssMb(pid);
  await sleep(settleS * 1000);
  const workerAtRest = childrenRssMb(pid);
  const services = await containerMemMb(p, 'berth.role=service');
  const components = { daemon: rssMb(pid), ...await containerMemByName(p, 'berth.role=proxy'), ...await containerMemByName(p, 'berth.role=service') };
  const networks = (await docker.listNetworks({ filters: { label: [`berth.instance=${p.instance}`] } })).filter((n) => n.Labels?.['berth.app']).length;
  if (networks !== apps) throw new Error(`expected ${apps} app networks, found ${networks}`);
  const s = await p.json<{ service: string; databases?: unknown[] }[]>(['services']);
  const dbs = (s.find((x) => x.service === 'postgres')?.databases ?? []).length;
  if (dbs !== apps) throw new Error(`expected ${apps} app databases, found ${dbs}`);
  return {
    apps, create_median_s: round(median(times) / 1000, 3), create_max_s: round(Math.max(...times) / 1000, 3),
    daemon_rss_mb: rssMb(pid), services_rss_mb: round(services.reduce((a, b) => a + b, 0), 1), services_each_mb: services,
    worker_rss_mb_while_warm: workerWarm, worker_rss_mb_at_rest: workerAtRest, memory_mb: components, app_networks: networks,
  };
}));
