// One app cannot starve the server: every process runs with a memory, CPU and process limit,
// no-new-privileges and only the capabilities a web app needs. Tried as a runaway app would:
// one that allocates without bound is killed alone (and the kill is reported), one that forks
// without bound stops at its limit, while PostgreSQL and another app keep serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { DaemonClient } from '../../src/daemon/client.js';
import { docker, ensureSample, Platform, SAMPLE, sleep, until } from '../helpers/platform.js';

const p = new Platform();
type HostConfig = { Memory: number; MemorySwap: number; NanoCpus: number; PidsLimit: number; SecurityOpt: string[]; CapDrop: string[]; CapAdd: string[] };
const hostConfig = async (app: string) => (await docker.getContainer(`${p.instance}-${app}-web`).inspect()).HostConfig as unknown as HostConfig;

/** PostgreSQL answers a query as app `calm` (its own credentials, from berth). */
async function postgresAnswers(): Promise<boolean> {
  const c = await new DaemonClient(`${p.root}/run/berth.sock`).call<{ postgres: { user: string; password: string; db: string } }>('GET', '/apps/calm/services');
  const ip = (await docker.getContainer(`${p.instance}-postgres`).inspect()).NetworkSettings.Networks[p.instance]!.IPAddress;
  const client = new pg.Client({ host: ip, port: 5432, user: c.postgres.user, password: c.postgres.password, database: c.postgres.db, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query('SELECT 1 AS one')).rows[0].one === 1;
  } finally {
    await client.end();
  }
}

before(async () => {
  await p.up();
  await ensureSample(p);
  await p.ok(['apps', 'create', 'calm', '--domain', 'calm.localhost']);
  await p.ok(['deploy', 'calm', '--image', SAMPLE]);
});
after(() => p.destroy());

test('every app process gets default limits, no-new-privileges and a short list of capabilities; an app changes them by name', async () => {
  const h = await hostConfig('calm');
  assert.equal(h.Memory, 512 * 1024 * 1024);
  assert.equal(h.MemorySwap, h.Memory, 'no swap on top of the limit');
  assert.equal(h.NanoCpus, 1e9);
  assert.equal(h.PidsLimit, 256);
  assert.deepEqual(h.SecurityOpt, ['no-new-privileges:true']);
  assert.deepEqual(h.CapDrop, ['ALL']);
  assert.ok(!h.CapAdd.includes('NET_RAW') && h.CapAdd.includes('NET_BIND_SERVICE'), h.CapAdd.join(','));

  const r = await p.json<{ limits: { memory_mb: number; cap_add: string[] }; deploy: { release: string } }>(
    ['apps', 'limits', 'calm', '--memory', '256m', '--cpus', '0.5', '--pids', '128', '--cap-add', 'net_raw']);
  assert.equal(r.limits.memory_mb, 256);
  const h2 = await hostConfig('calm');
  assert.deepEqual([h2.Memory, h2.NanoCpus, h2.PidsLimit, h2.CapAdd.includes('NET_RAW')], [256 * 1024 * 1024, 5e8, 128, true], `${r.deploy.release} runs with them`);
  const bad = await p.berth(['apps', 'limits', 'calm', '--memory', 'lots', '--cap-add', 'ALL']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /memory: "lots" is not a memory size[\s\S]*cap_add\.0: "ALL" is not a Linux capability/);
  await p.ok(['apps', 'limits', 'calm', '--memory', '512m', '--cpus', '1', '--pids', '256', '--cap-remove', 'NET_RAW']);
});

test('an app that allocates without bound is killed alone and the kill is reported; PostgreSQL and another app keep serving', { timeout: 180_000 }, async () => {
  await p.ok(['apps', 'create', 'hog', '--domain', 'hog.localhost', '--memory', '96m']);
  await p.ok(['config', 'set', 'hog', 'MISBEHAVE=true', '--no-deploy']);
  await p.ok(['deploy', 'hog', '--image', SAMPLE]);
  assert.equal((await hostConfig('hog')).Memory, 96 * 1024 * 1024, 'the limit given at apps create');
  // 16 MB at a time until the limit kills it: a failed request, or an answer from a fresh process
  // (its restart policy brings it back at once, and the proxy retries on it)
  let killed = false;
  let held = 0;
  const answers: string[] = [];
  for (let i = 0; i < 20 && !killed; i++) {
    const now = await p.get('hog.localhost', '/alloc?mb=16').then((x) => { answers.push(`${x.status} ${x.body.trim()}`); return Number(/holding (\d+)/.exec(x.body)?.[1]); },
      () => 0);
    killed = !(now > held);
    held = now;
  }
  assert.ok(killed, `the hog passed its limit: ${answers.join('; ')}`);
  const audit = await until(async () => (await p.json<{ action: string; detail: string | null }[]>(['audit', 'hog'])).find((e) => e.action === 'app.oom'),
    20_000, 'the kill in the audit');
  assert.equal(JSON.parse(audit.detail!).memory_mb, 96);
  assert.equal((await p.get('calm.localhost')).status, 200, 'the other app serves');
  assert.equal(await postgresAnswers(), true, 'PostgreSQL serves');
  // its restart policy brings it back; status says what happened
  const status = await until(async () => (await p.json<{ apps: { name: string; status: string; killed_for_memory: unknown }[] }>(['status']))
    .apps.find((a) => a.name === 'hog' && a.killed_for_memory), 20_000, 'status to report the kill');
  assert.match(status.status, /killed for passing its memory limit/);
  await until(async () => (await p.get('hog.localhost').then((x) => x.status, () => 0)) === 200, 30_000, 'the hog to serve again');

  // a release that dies of it before its health check passes fails the deploy, and says why
  await p.ok(['config', 'set', 'hog', 'ALLOC_AT_START_MB=200', 'STARTUP_DELAY_MS=2000', '--no-deploy']);
  const failed = await p.berth(['deploy', 'hog', '--image', SAMPLE]);
  assert.equal(failed.code, 6, failed.stderr);
  assert.match(failed.stderr, /killed for passing its memory limit before it became healthy[\s\S]*berth apps limits hog --memory/);
});

test('a fork bomb stops at its process limit; the server and the other app keep serving', { timeout: 120_000 }, async () => {
  await p.ok(['apps', 'create', 'bomb', '--domain', 'bomb.localhost', '--pids', '64']);
  await p.ok(['config', 'set', 'bomb', 'MISBEHAVE=true', '--no-deploy']);
  await p.ok(['deploy', 'bomb', '--image', SAMPLE]);
  const r = await p.get('bomb.localhost', '/fork?n=500', 60_000).then((x) => JSON.parse(x.body) as { started: number; error: string | null }, (e: Error) => e);
  if (!(r instanceof Error)) {
    assert.ok(r.started < 64, `started ${r.started} processes under a limit of 64 tasks`);
    assert.ok(r.error, 'the spawn that passed the limit failed');
  }
  const top = await docker.getContainer(`${p.instance}-bomb-web`).top().catch(() => ({ Processes: [] as string[][] }));
  assert.ok(top.Processes.length <= 64, `${top.Processes.length} processes in the container`);
  assert.equal((await p.get('calm.localhost')).status, 200, 'the other app serves');
  assert.equal(await postgresAnswers(), true, 'PostgreSQL serves');
  await sleep(100);
});
