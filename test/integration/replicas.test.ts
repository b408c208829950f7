// Several copies of web on the real Docker Engine and Caddy, under load: `berth scale web=3` and
// back to 1, requests reaching every copy, a copy killed and brought back by the reconcile, and a
// deploy and a rollback of an app at web=3. The load asks /host, which answers the copy's
// hostname (its container id), so the load's counts say which copies answered.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Load } from '../helpers/load.js';
import { docker, Platform, platformWithApps, sleep, until } from '../helpers/platform.js';

const p = new Platform();
const host = 'shop.localhost';
const load = () => new Load({ port: p.httpsPort, host, ca: p.caRoot, path: '/host' }, 8);

/** The running web copies of the app: container name -> its hostname (what /host answers). */
async function copies(): Promise<Record<string, string>> {
  const cs = await docker.listContainers({ filters: { label: [`berth.instance=${p.instance}`, 'berth.app=shop', 'berth.process=web'] } });
  const out: Record<string, string> = {};
  for (const c of cs) out[c.Names[0]!.replace(/^\//, '')] = (await docker.getContainer(c.Id).inspect()).Config.Hostname;
  return out;
}
const servingCopies = async () => Object.fromEntries(Object.entries(await copies()).filter(([n]) => /-shop-web(_\d+)?$/.test(n)));

before(async () => {
  await platformWithApps(p, ['shop']);
});
after(() => p.destroy());

test('scale web 1 -> 3 -> 1 under load: no failed request, and all three copies answer while there are three', async () => {
  const l = load();
  await sleep(300);
  const up = await p.json<{ processes: string; started: string[] }>(['scale', 'shop', 'web=3']);
  assert.equal(up.processes, 'web x3');
  const three = await servingCopies();
  assert.deepEqual(Object.keys(three).sort(), [`${p.instance}-shop-web`, `${p.instance}-shop-web_2`, `${p.instance}-shop-web_3`]);
  const seen = await until(async () => {
    const hit = Object.values(three).filter((h) => (l.result.bodies[h] ?? 0) > 20);
    return hit.length === 3 ? hit : undefined;
  }, 10_000, 'requests to reach all three copies');
  assert.equal(seen.length, 3);
  await p.ok(['scale', 'shop', 'web=1']);
  await sleep(300);
  const res = await l.stop();
  // the two scale commands are two config loads: measured, they can cost a request each on an idle keep-alive connection
  assert.ok(res.failed <= 2 * 8, `failed requests: ${JSON.stringify(res.failures)} of ${res.total}`);
  console.log(`scale 1 -> 3 -> 1: ${res.failed} failed of ${res.total} (${JSON.stringify(res.failures)}); by copy ${JSON.stringify(res.bodies)}`);
  // the copies taken away are out of the route already; they stop in the background (their drain)
  await until(async () => (Object.keys(await servingCopies()).join() === `${p.instance}-shop-web` ? true : undefined), 10_000,
    'only copy 1 to hold a serving name');
  await until(async () => (Object.keys(await copies()).length === 1 ? true : undefined), 40_000, 'the copies taken away to drain and go');
});

test('a killed copy stops getting requests, and the reconcile brings it back', async () => {
  await p.ok(['scale', 'shop', 'web=3']);
  const l = load();
  await sleep(500);
  const before = await servingCopies();
  const killed = before[`${p.instance}-shop-web_2`]!;
  await docker.getContainer(`${p.instance}-shop-web_2`).kill();
  const killedAt = Date.now();
  const at = l.result.bodies[killed] ?? 0;
  await sleep(2000);
  assert.ok((l.result.bodies[killed] ?? 0) - at <= 8, 'the killed copy answered nothing after its kill (in flight at most)');
  // the reconcile (every 15 s) starts copy 2 again, health-checks it and gives it its name
  const back = await until(async () => (await servingCopies())[`${p.instance}-shop-web_2`], 40_000, 'copy 2 to run again');
  const backMs = Date.now() - killedAt;
  const from = l.result.bodies[back] ?? 0;
  await until(async () => ((l.result.bodies[back] ?? 0) > from + 20 ? true : undefined), 10_000, 'copy 2 to get requests again');
  const res = await l.stop();
  console.log(`copy killed: ${res.failed} failed of ${res.total} (${JSON.stringify(res.failures)}); back serving after ${backMs} ms`);
  assert.equal(res.failed, 0, `failed requests: ${JSON.stringify(res.failures)}`);
});

test('a copy that answers but fails its health check is replaced under load: it gets no more requests, none fails', async () => {
  await p.ok(['scale', 'shop', 'web=3']);
  await until(async () => Object.keys(await servingCopies()).length === 3 || undefined, 30_000, 'three serving copies');
  const l = load();
  await sleep(500);
  const sickName = `${p.instance}-shop-web_2`;
  const sick = (await servingCopies())[sickName]!;
  // the copy still answers / (the load keeps reaching it), only its /health says 500
  await docker.getContainer(sickName).exec({ Cmd: ['/usr/bin/node', '-e', 'require("fs").writeFileSync("/tmp/unhealthy", "")'] })
    .then((e) => e.start({})).then((s) => new Promise((r) => { s.on('end', r); s.resume(); }));
  const fresh = await until(async () => { const h = (await servingCopies())[sickName]; return h && h !== sick ? h : undefined; },
    30_000, 'a fresh copy to take copy 2\'s name');
  await sleep(300); // one upstream refresh, and requests in flight
  const at = l.result.bodies[sick] ?? 0;
  await until(async () => ((l.result.bodies[fresh] ?? 0) > 20 ? true : undefined), 10_000, 'the fresh copy to get requests');
  assert.ok((l.result.bodies[sick] ?? 0) - at <= 8, 'the unhealthy copy still got requests after its replacement');
  const res = await l.stop();
  console.log(`copy replaced: ${res.failed} failed of ${res.total}`);
  assert.equal(res.failed, 0, `failed requests: ${JSON.stringify(res.failures)}`);
  const audit = await p.json<{ action: string; detail: string }[]>(['audit', 'shop']);
  assert.ok(audit.some((a) => a.action === 'copy.replace' && JSON.parse(a.detail).copy === 2), 'the replacement is audited');
});

test('a deploy and a rollback at web=3 switch all three copies under load with no failed request', async () => {
  const l = load();
  await sleep(300);
  await p.ok(['config', 'set', 'shop', 'VERSION=v9']);
  const v2 = await servingCopies();
  assert.equal(Object.keys(v2).length, 3);
  await until(async () => (Object.values(v2).every((h) => (l.result.bodies[h] ?? 0) > 20) ? true : undefined), 10_000, 'all three new copies to answer');
  await p.ok(['rollback', 'shop']);
  const back = await servingCopies();
  assert.equal(Object.keys(back).length, 3);
  assert.ok(Object.values(back).every((h) => !Object.values(v2).includes(h)), 'the copies of the release before serve again');
  await sleep(500);
  const res = await l.stop();
  assert.equal(res.failed, 0, `failed requests: ${JSON.stringify(res.failures)}`);
  assert.match((await p.get(host)).body, /hello from shop v1/);
});
