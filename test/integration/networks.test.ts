// Apps do not reach each other except through the proxy. Written as a hostile app would try it:
// from inside app A's container, with the tools an app has (node), towards app B by name and by
// address; and the things A must still reach: the shared services and its own other process.
// A platform from before per-app networks moves onto them on `berth up`, under load, with no
// failed request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Load } from '../helpers/load.js';
import { docker, ensureSample, Platform, SAMPLE, settledReleases, until } from '../helpers/platform.js';

const p = new Platform();

/** Probes run inside a container: each target is a TCP connect or an HTTP GET, 2 s at most. */
const PROBE = `
const net = require('node:net');
const tcp = (host, port) => new Promise((res) => {
  const s = net.connect({ host, port: Number(port), timeout: 2000 });
  s.on('connect', () => { s.destroy(); res('open'); });
  s.on('timeout', () => { s.destroy(); res('timeout'); });
  s.on('error', (e) => res(e.code || e.message));
});
const get = (url) => fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, (e) => (e.cause && e.cause.code) || e.name);
(async () => {
  const out = {};
  for (const [k, t] of Object.entries(JSON.parse(process.argv[1]))) out[k] = t[0] === 'tcp' ? await tcp(t[1], t[2]) : await get(t[1]);
  console.log(JSON.stringify(out));
})();`;

type Target = ['tcp', string, number] | ['http', string];

async function probeFrom(container: string, targets: Record<string, Target>): Promise<Record<string, string | number>> {
  const exec = await docker.getContainer(container).exec({ Cmd: ['node', '-e', PROBE, JSON.stringify(targets)], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  await new Promise((res, rej) => { stream.on('data', (c: Buffer) => chunks.push(c)); stream.on('end', res); stream.on('error', rej); });
  const text = Buffer.concat(chunks).toString('utf8');
  const line = text.split('\n').map((l) => l.replace(/^[^{]*/, '')).find((l) => l.startsWith('{'));
  if (!line) throw new Error(`no probe result from ${container}: ${text}`);
  return JSON.parse(line) as Record<string, string | number>;
}

const envOf = async (container: string) => Object.fromEntries(((await docker.getContainer(container).inspect()).Config.Env ?? [])
  .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
const ipsOf = async (container: string) => Object.values((await docker.getContainer(container).inspect()).NetworkSettings.Networks).map((n) => n.IPAddress);
const hostPort = (url: string): ['tcp', string, number] => { const u = new URL(url); return ['tcp', u.hostname, Number(u.port)]; };
const networksOf = async (container: string) => Object.keys((await docker.getContainer(container).inspect()).NetworkSettings.Networks).sort();

before(async () => {
  await p.up();
  await ensureSample(p);
  await p.ok(['apps', 'create', 'a', '--domain', 'a.localhost']);
  await p.ok(['apps', 'create', 'b', '--domain', 'b.localhost', '--redis', 'dedicated']);
  await p.ok(['apps', 'create', 'c', '--domain', 'c.localhost', '--no-db']);
  for (const app of ['a', 'b', 'c']) await p.ok(['deploy', app, '--image', SAMPLE]);
  await p.ok(['config', 'set', 'a', 'FLAVOUR=second']); // v2 serves, v1 stays warm: A's "other process"
  await settledReleases(p, 'a');
});
after(() => p.destroy());

test('from inside app A, app B is unreachable by name and by address; the services and A\'s own containers are reachable', async () => {
  const a = `${p.instance}-a-web`;
  const bIps = await ipsOf(`${p.instance}-b-web`);
  const env = await envOf(a);
  const targets: Record<string, Target> = {
    b_by_name: ['http', `http://${p.instance}-b-web:8000/health`],
    ...Object.fromEntries(bIps.map((ip, i) => [`b_by_ip_${i}`, ['http', `http://${ip}:8000/health`]])),
    postgres: hostPort(env.DATABASE_URL!),
    redis: hostPort(env.REDIS_URL!),
    s3: hostPort(env.S3_ENDPOINT!),
    a_warm_release: ['http', `http://${p.instance}-a-web-v1:8000/health`],
    b_own_redis: ['tcp', `${p.instance}-redis-b`, 6379],
  };
  const r = await probeFrom(a, targets);
  assert.notEqual(r.b_by_name, 200, `B answered A by name: ${JSON.stringify(r)}`);
  // Docker's DNS forwards a name it does not hold to the host's resolvers, which on a machine without
  // upstream DNS may not answer within the probe's 2 s: no answer is no address too
  assert.match(String(r.b_by_name), /ENOTFOUND|EAI_AGAIN|TimeoutError/, 'B\'s name does not even resolve inside A');
  for (let i = 0; i < bIps.length; i++) assert.notEqual(r[`b_by_ip_${i}`], 200, `B answered A at ${bIps[i]}: ${JSON.stringify(r)}`);
  assert.deepEqual([r.postgres, r.redis, r.s3, r.a_warm_release], ['open', 'open', 'open', 200], JSON.stringify(r));
  assert.match(String(r.b_own_redis), /ENOTFOUND|EAI_AGAIN|ETIMEDOUT|timeout/i, 'B\'s own Redis is on B\'s network only');
  const fromB = await probeFrom(`${p.instance}-b-web`, { own_redis: hostPort((await envOf(`${p.instance}-b-web`)).REDIS_URL!) });
  assert.equal(fromB.own_redis, 'open', 'B reaches its own Redis');
  // and the proxy still reaches both
  assert.equal((await p.get('a.localhost')).status, 200);
  assert.equal((await p.get('b.localhost')).status, 200);
});

// Defence in depth: credentials keep an app out of a database it was given none of, but a server
// it can reach at all is one pre-authentication bug away. An app reaches only what it uses.
test('an app without a database cannot reach PostgreSQL, by name or address; an app with a Redis of its own cannot reach the shared one', async () => {
  const c = `${p.instance}-c-web`;
  assert.equal((await envOf(c)).DATABASE_URL, undefined);
  const pgIps = await ipsOf(`${p.instance}-postgres`);
  const fromC = await probeFrom(c, {
    postgres_by_name: ['tcp', `${p.instance}-postgres`, 5432],
    ...Object.fromEntries(pgIps.map((ip, i) => [`postgres_by_ip_${i}`, ['tcp', ip, 5432]])),
    redis: hostPort((await envOf(c)).REDIS_URL!), s3: hostPort((await envOf(c)).S3_ENDPOINT!),
  });
  assert.match(String(fromC.postgres_by_name), /ENOTFOUND|EAI_AGAIN|ETIMEDOUT|timeout/i, `C reaches PostgreSQL by name: ${JSON.stringify(fromC)}`);
  for (let i = 0; i < pgIps.length; i++) assert.notEqual(fromC[`postgres_by_ip_${i}`], 'open', `C reaches PostgreSQL at ${pgIps[i]}`);
  assert.deepEqual([fromC.redis, fromC.s3], ['open', 'open'], 'what C uses it still reaches');
  const fromB = await probeFrom(`${p.instance}-b-web`, { shared_redis: ['tcp', `${p.instance}-redis`, 6379] });
  assert.match(String(fromB.shared_redis), /ENOTFOUND|EAI_AGAIN|ETIMEDOUT|timeout/i, `B reaches the shared Redis: ${JSON.stringify(fromB)}`);
  // a platform of an older berth put every service on every app's network: the reconcile takes it off
  await docker.getNetwork(`${p.instance}-app-c`).connect({ Container: `${p.instance}-postgres` });
  assert.ok((await networksOf(`${p.instance}-postgres`)).includes(`${p.instance}-app-c`));
  await until(async () => !(await networksOf(`${p.instance}-postgres`)).includes(`${p.instance}-app-c`), 30_000,
    'the reconcile to take PostgreSQL off C\'s network');
  assert.ok((await networksOf(`${p.instance}-postgres`)).includes(`${p.instance}-app-a`), 'A, which uses it, keeps it');
});

test('a platform whose apps share the platform network moves them onto their own on berth up, with no failed request', async () => {
  const b = `${p.instance}-b-web`;
  const own = `${p.instance}-app-b`;
  // Put B back the way berth ran apps before: on the platform network only, no network of its own
  // (the daemon paused meanwhile: its reconcile would repair it halfway).
  p.killDaemon('SIGSTOP', { supervisor: 'keep' });
  await docker.getNetwork(p.instance).connect({ Container: b });
  const net = docker.getNetwork(own);
  for (const id of Object.keys((await net.inspect()).Containers ?? {})) if (id) await net.disconnect({ Container: id, Force: true });
  await net.remove();
  assert.deepEqual(await networksOf(b), [p.instance]);
  // the proxy as it ran then: no pooled connection to B's address on a network that is gone
  await docker.getContainer(`${p.instance}-caddy`).restart({ t: 1 });
  await until(async () => (await p.get('b.localhost').then((r) => r.status, () => 0)) === 200, 20_000, 'the proxy to serve B again');
  p.killDaemon('SIGCONT', { supervisor: 'keep' });

  const load = new Load({ port: p.httpsPort, host: 'b.localhost', ca: p.caRoot }, 4);
  const up = await p.ok(['up', '--instance', p.instance, '--http-port', String(p.httpPort), '--https-port', String(p.httpsPort), '--bind', '127.0.0.1']);
  const res = await load.stop();
  assert.equal(res.failed, 0, JSON.stringify(res.failures));
  assert.ok(res.total > 20, `the load ran (${res.total} requests)`);
  // by this berth up, or by the daemon's reconcile just before it (then berth up finds the app busy
  // and the move may still be under way): a new release, started on B's network
  let releases: { release: string; state: string; note: string | null }[] = [];
  await until(async () => {
    releases = await p.json<typeof releases>(['releases', 'b']);
    return releases.find((r) => r.state === 'live')?.note === 'moved onto its own network';
  }, 60_000, 'the move onto its own network').catch((e: Error) => { throw new Error(`${e.message}\n${up.stdout}\n${JSON.stringify(releases)}`); });
  assert.deepEqual(await networksOf(b), [own]);
  const again = await p.ok(['up', '--instance', p.instance, '--http-port', String(p.httpPort), '--https-port', String(p.httpsPort), '--bind', '127.0.0.1']);
  assert.doesNotMatch(again.stdout, /moved|created the network/, 'idempotent');
});

test('deleting an app removes its network', async () => {
  await p.ok(['apps', 'create', 'gone', '--domain', 'gone.localhost']);
  await p.ok(['deploy', 'gone', '--image', SAMPLE]);
  const nets = async () => (await docker.listNetworks({ filters: { label: [`berth.instance=${p.instance}`] } })).map((n) => n.Name).sort();
  assert.ok((await nets()).includes(`${p.instance}-app-gone`));
  await p.ok(['apps', 'delete', 'gone', '--yes']);
  assert.ok(!(await nets()).includes(`${p.instance}-app-gone`));
});
