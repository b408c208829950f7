// A release with a web process and a worker, on the real Docker Engine and Caddy: the worker runs
// the release's image with its own command; a deploy stops the old worker only after the switch,
// with SIGTERM and its grace period, so the job in hand finishes; a worker that cannot start
// fails the deploy and leaves the old release (and its worker) running; scale changes copies
// without a deploy; a rollback brings back the earlier release's worker.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { demux } from '../../src/runtime/docker/engine-api.js';
import { docker, ensureSample, Platform, SAMPLE, until } from '../helpers/platform.js';

const p = new Platform();
const WORKER = 'worker=/usr/bin/node /app/server.js worker';

const container = (name: string) => docker.getContainer(`${p.instance}-shop-${name}`);
const logsOf = async (name: string) => demux(await container(name).logs({ stdout: true, stderr: true }) as unknown as Buffer);
async function workers(): Promise<string[]> {
  const cs = await docker.listContainers({ all: true, filters: { label: [`berth.instance=${p.instance}`, 'berth.app=shop', 'berth.process=worker'] } });
  return cs.map((c) => `${c.Labels['berth.release']}.${c.Labels['berth.replica']}:${c.State}`).sort();
}

before(async () => {
  await p.up();
  await ensureSample(p);
  await p.ok(['apps', 'create', 'shop', '--domain', 'shop.localhost']);
  await p.ok(['config', 'set', 'shop', 'JOB_MS=4000', '--no-deploy']);
  await p.ok(['deploy', 'shop', '--image', SAMPLE, '--process', WORKER]);
});
after(() => p.destroy());

test("a deploy lets the old worker finish the job in hand after the switch, and the new release's worker takes over", async () => {
  assert.deepEqual(await workers(), ['v1.1:running']);
  await until(async () => /job 1 started/.test(await logsOf('worker-v1')), 10_000, 'the v1 worker to start a job');
  const r = await p.ok(['deploy', 'shop']);
  assert.match(r.stderr, /start v2's worker/);
  assert.match(r.stderr, /stop v1's other processes/);
  assert.equal((await p.get('shop.localhost')).body, 'hello from shop v1\n');
  // the old worker got SIGTERM mid-job: it finishes that job (up to 4 s) and exits 0 by itself
  const state = await until(async () => {
    const s = (await container('worker-v1').inspect()).State;
    return s.Running ? undefined : s;
  }, 15_000, 'the v1 worker to exit');
  assert.equal(state.ExitCode, 0, 'it exited by itself, not killed at the end of its grace');
  const log = await logsOf('worker-v1');
  const job = /finishing job (\d+)/.exec(log)?.[1];
  assert.ok(job, log);
  assert.match(log, new RegExp(`job ${job} done\\n.*stopped after job ${job}`, 's'));
  assert.deepEqual(await workers(), ['v1.1:exited', 'v2.1:running']);
  await until(async () => /worker v1 job 1 started/.test(await logsOf('worker-v2')), 10_000, 'the v2 worker to run');
  const releases = await p.json<{ release: string; processes: string }[]>(['releases', 'shop']);
  assert.equal(releases[0]!.processes, 'web, worker');
});

test('a worker that cannot start fails the deploy before the switch: the live release and its worker go on, its output is shown', async () => {
  await p.ok(['config', 'set', 'shop', 'WORKER_FAIL=true', '--no-deploy']);
  const r = await p.berth(['deploy', 'shop']);
  assert.notEqual(r.code, 0, r.stderr);
  assert.match(r.stderr, /worker \(copy 1\) of v3 exited with 1/);
  assert.match(r.stderr, /cannot start/, 'the worker\'s own output');
  assert.deepEqual(await workers(), ['v1.1:exited', 'v2.1:running']);
  assert.equal((await p.json<{ release: string }>(['apps', 'show', 'shop'])).release, 'v2');
  await p.ok(['config', 'unset', 'shop', 'WORKER_FAIL', '--no-deploy']);
});

test('scale runs more copies without a deploy; a rollback brings back the earlier release with as many', async () => {
  const s = await p.json<{ release: string; processes: string; started: string[] }>(['scale', 'shop', 'worker=2']);
  assert.deepEqual([s.release, s.processes, s.started.length], ['v2', 'web, worker x2', 1]);
  assert.deepEqual(await workers(), ['v1.1:exited', 'v2.1:running', 'v2.2:running']);
  const bad = await p.berth(['scale', 'shop', 'web=0']);
  assert.match(bad.stderr, /web: serves the app's requests: it runs one copy at least/);
  await p.ok(['rollback', 'shop']);
  const now = await until(async () => {
    const w = await workers();
    return w.filter((x) => x.startsWith('v2') && x.endsWith('running')).length === 0 ? w : undefined;
  }, 20_000, "v2's workers to finish and stop");
  assert.deepEqual(now.filter((x) => x.endsWith('running')), ['v1.1:running', 'v1.2:running']);
});
