// How to switch a release: berth's rename (the new container takes the name the proxy resolves;
// no proxy config change) against a PATCH of the app's route to the new container's name (one
// admin call; a config change for Caddy). Same platform, same Caddy, same two warm releases of
// app a, under the same load on app a and on another app b; the daemon is paused (SIGSTOP)
// during the PATCH phase so its reconcile does not put the route back.
//
//   npm run bench -- switch [--switches 20] [--concurrency 8] [--apps 20]
import { join } from 'node:path';
import { CaddyAdmin } from '../src/proxy/caddy/admin.js';
import { RemoteLoad } from './lib/remote-load.js';
import { type Platform, SAMPLE, sleep, until } from '../test/helpers/platform.js';
import { log, main, median, numArg, round, timed, withPlatform } from './lib/common.js';

const switches = numArg('switches', 20);
const concurrency = numArg('concurrency', 8);
const apps = numArg('apps', 20);

const load = (p: Platform, host: string, n: number) => new RemoteLoad({ port: p.httpsPort, host, ca: p.caRoot }, n);

/** Waits until the load on app a has seen `version` answer (the switch has taken effect). */
const seen = (l: RemoteLoad, version: string, before: number) =>
  until(async () => (l.result.bodies[version] ?? 0) > before, 10_000, `${version} to answer`);

async function phase(p: Platform, name: string, flip: (to: 'v1' | 'v2') => Promise<void>) {
  const a = load(p, 'a.localhost', concurrency);
  const b = load(p, 'b.localhost', Math.max(1, concurrency / 2));
  await sleep(2000);
  const times: number[] = [];
  for (let i = 0; i < switches; i++) {
    const to = i % 2 === 0 ? 'v1' : 'v2';
    const before = a.result.bodies[to] ?? 0;
    const t0 = performance.now();
    await flip(to);
    await seen(a, to, before);
    times.push(performance.now() - t0);
    await sleep(300);
  }
  const [ra, rb] = await Promise.all([a.stop(), b.stop()]);
  const out = {
    switches, switch_to_served_ms_median: round(median(times), 0), switch_to_served_ms_max: round(Math.max(...times), 0),
    app_a: { total: ra.total, failed: ra.failed, failures: ra.failures }, other_app_b: { total: rb.total, failed: rb.failed, failures: rb.failures },
  };
  log(`${name}: ${JSON.stringify(out)}`);
  return out;
}

main('switch', () => withPlatform(async (p) => {
  for (const app of ['a', 'b']) {
    await p.ok(['apps', 'create', app, '--domain', `${app}.localhost`, '--no-db', '--no-redis', '--no-bucket']);
    await p.ok(['config', 'set', app, 'VERSION=v1', '--no-deploy']);
    await p.ok(['deploy', app, '--image', SAMPLE]);
  }
  await p.ok(['config', 'set', 'a', 'VERSION=v2']); // a: v2 live, v1 warm
  for (let i = 0; i < apps; i++) await p.ok(['apps', 'create', `x${i}`, '--domain', `x${i}.localhost`, '--no-db', '--no-redis', '--no-bucket']);
  log(`phase 1: ${switches} switches by rename (berth rollback --to), ${apps + 2} routes`);
  const rename = await phase(p, 'rename', async (to) => {
    await timed(p, ['rollback', 'a', '--to', to === 'v1' ? 'v1' : 'v2', '--lock-timeout', '30s']);
  });
  // Both releases still run; their containers' names now: the serving one and the parked one.
  const admin = new CaddyAdmin(join(p.root, 'run', 'caddy', 'admin.sock'));
  const names = { v1: '', v2: '' };
  for (const v of ['v1', 'v2'] as const) {
    const c = (await p.containers()).find((x) => x.app === 'a' && x.release === v)!;
    names[v] = c.name;
  }
  const pid = p.daemonPid()!;
  process.kill(pid, 'SIGSTOP');
  log(`phase 2: ${switches} switches by PATCHing app a's route upstream (${names.v1} / ${names.v2}); daemon ${pid} paused`);
  try {
    const patch = await phase(p, 'patch', async (to) => {
      await admin.ok('PATCH', '/id/berth-app-a/handle/0/dynamic_upstreams/name', names[to]);
    });
    return { routes: apps + 2, concurrency, rename, patch };
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}, ['--services', 'none']));
