// Deploys, failed deploys and rollbacks against a real Docker Engine and a real Caddy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Load } from '../helpers/load.js';
import { Platform, platformWithApps, SAMPLE, settledReleases, sleep, until } from '../helpers/platform.js';

const p = new Platform();
const host = 'web.localhost';

before(async () => {
  await platformWithApps(p, ['web'], { deploy: false });
});
after(() => p.destroy());

test('an app without a release answers 503, then serves its first release over HTTPS', async () => {
  const before = await p.get(host);
  assert.equal(before.status, 503);
  assert.match(before.body, /no release/);
  const r = await p.ok(['deploy', 'web', '--image', SAMPLE]);
  assert.match(r.stdout, /web v1 is live/);
  assert.match(r.stderr, /health/);
  const after = await p.get(host);
  assert.equal(after.status, 200);
  assert.match(after.body, /hello from web v1/);
});

test('config changes roll out a new release under load with no failed request', async () => {
  const load = new Load({ port: p.httpsPort, host, ca: p.caRoot }, 8);
  await sleep(300);
  for (const version of ['v2', 'v3', 'v4']) {
    await p.ok(['config', 'set', 'web', `VERSION=${version}`]);
  }
  await sleep(300);
  const res = await load.stop();
  assert.equal(res.failed, 0, `failed requests: ${JSON.stringify(res.failures)}`);
  assert.ok(res.total > 100, `only ${res.total} requests`);
  assert.ok(res.bodies.v4 && res.bodies.v4 > 0, `never saw v4: ${JSON.stringify(res.bodies)}`);
  assert.match((await p.get(host)).body, /v4/);
  assert.deepEqual(await p.appEnv('web', ['VERSION', 'APP_NAME', 'APP_DOMAIN', 'PORT']), { VERSION: 'v4', APP_NAME: 'web', APP_DOMAIN: host, PORT: '8000' });
});

test('the sample app says which env keys are set, never their values, on its public domain', async () => {
  const dbUrl = (await p.ok(['db', 'url', 'web'])).stdout.trim();
  assert.match(dbUrl, /^postgres:\/\//);
  const r = await p.get(host, '/env?keys=DATABASE_URL,S3_SECRET_KEY,VERSION,NOT_SET');
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), { DATABASE_URL: true, S3_SECRET_KEY: true, VERSION: true, NOT_SET: false });
  const password = new URL(dbUrl).password;
  for (const path of ['/env?keys=DATABASE_URL', '/env', '/', '/health', `/env?keys=${'DATABASE_URL,'.repeat(20)}`]) {
    const body = (await p.get(host, path)).body;
    assert.ok(!body.includes(password) && !body.includes(dbUrl), `${path} served the database password`);
  }
});

test('a release that fails its health check never receives traffic; the error names the reason and shows its log', async () => {
  await p.ok(['config', 'set', 'web', 'HEALTHY=false', 'VERSION=bad', '--no-deploy']);
  const r = await p.berth(['deploy', 'web', '--timeout', '3s']);
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /did not pass its health check .* within 3s; last answer: 500/);
  assert.match(r.stderr, /last lines of the release's log/);
  assert.match(r.stderr, /bad listening on 8000/);
  assert.match((await p.get(host)).body, /v4/);
  const units = await p.containers();
  assert.ok(!units.some((u) => u.state === 'running' && u.release === 'v5'), 'the failed release still runs');
  await p.ok(['config', 'unset', 'web', 'HEALTHY', '--no-deploy']);
  await p.ok(['config', 'set', 'web', 'VERSION=v4', '--no-deploy']);
});

test('a release that crashes at start fails fast with its exit code', async () => {
  const t0 = Date.now();
  const r = await p.berth(['config', 'set', 'web', 'EXIT_AFTER_MS=50', 'STARTUP_DELAY_MS=5000']);
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /exited with code 1/);
  assert.match(r.stderr, /crashing on purpose/);
  assert.ok(Date.now() - t0 < 20_000, 'did not fail fast');
  assert.match((await p.get(host)).body, /v4/);
  await p.ok(['config', 'unset', 'web', 'EXIT_AFTER_MS', 'STARTUP_DELAY_MS', '--no-deploy']);
});

test('a deploy that times out is removed and the old release keeps serving', async () => {
  const r = await p.berth(['deploy', 'web', '--timeout', '2s', '--health-path', '/nope']);
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /within 2s; last answer: 404/);
  assert.match((await p.get(host)).body, /v4/);
  const releases = await p.json<{ release: string; state: string }[]>(['releases', 'web']);
  assert.equal(releases[0]!.state, 'failed');
  assert.equal(releases.find((x) => x.state === 'live')!.release, releases.find((x) => x.state === 'live')!.release);
  await settledReleases(p, 'web');
});

test('one deploy per app: a second fails naming the holder, a third waits; --abort cancels the first', async () => {
  await p.ok(['config', 'set', 'web', 'STARTUP_DELAY_MS=60000', '--no-deploy']);
  const first = p.berth(['deploy', 'web']);
  await until(async () => (await p.json<{ deploys: unknown[] }>(['status'])).deploys.length > 0, 10_000, 'a running deploy');
  const second = await p.berth(['deploy', 'web']);
  assert.equal(second.code, 5, second.stderr);
  assert.match(second.stderr, /locked by deploy #\d+ \(tester/);
  assert.match(second.stderr, /--abort/);
  await p.ok(['config', 'unset', 'web', 'STARTUP_DELAY_MS', '--no-deploy']);
  const third = p.berth(['deploy', 'web', '--lock-timeout', '60s']);
  await sleep(500);
  await p.ok(['deploy', 'web', '--abort']);
  const a = await first;
  assert.equal(a.code, 9, a.stderr);
  assert.match(a.stderr, /aborted/);
  const c = await third;
  assert.equal(c.code, 0, c.stderr);
  await settledReleases(p, 'web');
  assert.equal((await p.get(host)).status, 200);
});

test('rollback: warm in about a second, cold from the kept image, with the same health gate', async () => {
  await p.ok(['config', 'set', 'web', 'VERSION=r1']);
  await p.ok(['config', 'set', 'web', 'VERSION=r2']);
  const t0 = Date.now();
  const r = await p.ok(['rollback', 'web']);
  const warmMs = Date.now() - t0;
  assert.match(r.stdout, /is live again/);
  assert.match((await p.get(host)).body, /r1/);
  assert.ok(warmMs < 3000, `warm rollback took ${warmMs} ms`);
  const releases = await p.json<{ release: string; state: string }[]>(['releases', 'web']);
  const r2 = releases.find((x) => x.state === 'warm')!;
  assert.ok(r2, 'the replaced release stays warm');
  // cold: roll back to a release whose container is gone
  const stopped = releases.find((x) => x.state === 'stopped');
  assert.ok(stopped, JSON.stringify(releases));
  await p.ok(['rollback', 'web', '--to', stopped!.release]);
  assert.equal((await p.get(host)).status, 200);
  const bad = await p.berth(['rollback', 'web', '--to', 'v999']);
  assert.equal(bad.code, 3);
});

test('only the last five releases keep their images or containers', async () => {
  for (let i = 0; i < 4; i++) await p.ok(['config', 'set', 'web', `VERSION=k${i}`]);
  const releases = await p.json<{ release: string; state: string }[]>(['releases', 'web']);
  const kept = releases.filter((r) => r.state !== 'pruned');
  assert.ok(kept.length <= 5 + releases.filter((r) => r.state === 'failed').length, JSON.stringify(releases));
  assert.equal(releases.filter((r) => r.state === 'live').length, 1);
  const running = await settledReleases(p, 'web');
  assert.ok(running.length <= 2, `containers: ${JSON.stringify(running)}`);
});

test('a first deploy that fails says nothing serves yet, not that a previous release keeps serving; plans name releases vN', async () => {
  await p.ok(['apps', 'create', 'fresh', '--domain', 'fresh.localhost']);
  const plan = await p.ok(['deploy', 'web', '--dry-run']);
  const live = (await p.json<{ release: string; state: string }[]>(['releases', 'web'])).find((r) => r.state === 'live')!.release;
  assert.match(plan.stdout, new RegExp(`switch traffic from release ${live} to v\\d+`), plan.stdout);
  assert.doesNotMatch(plan.stdout, /release #/, plan.stdout);
  const r = await p.berth(['deploy', 'fresh', '--image', SAMPLE, '--health-path', '/nope', '--timeout', '2s']);
  assert.equal(r.code, 6, r.stderr);
  assert.match(r.stderr, /the app has no release serving yet \(this was its first deploy\)/);
  assert.doesNotMatch(r.stderr, /keeps serving/);
  assert.match(r.stderr, /send traffic to release v1/);
  await p.ok(['apps', 'delete', 'fresh', '--yes']);
});
