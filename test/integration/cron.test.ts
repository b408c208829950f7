// Cron on a real platform: a berth.yml's cron entries (deployed through the API, as berth deploy
// sends them) run as one-off containers of the live release on their schedule (six fields:
// seconds, to keep the test short), overlaps skipped, timeouts recorded, a run by hand, and a
// daemon killed during a run neither loses nor doubles it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.js';
import { docker, Platform, platformWithApps, SAMPLE, until } from '../helpers/platform.js';

const p = new Platform();
const daemon = () => new DaemonClient(join(p.root, 'run', 'berth.sock'), 10_000);

interface Run {
  id: number; state: string; exit_code: number | null; scheduled_at: string; trigger: string; log_tail: string | null; duration_ms: number | null;
}
const runs = (job: string) => p.json<Run[]>(['cron', 'jobs', job, '--limit', '50']);

/** Prints when it started and ended (ms), so runs can be checked for overlap from their own output. */
const timed = (ms: number) => ['node', '-e', `console.log("start " + Date.now()); setTimeout(() => console.log("end " + Date.now()), ${ms})`];

const cron = {
  tick: { schedule: '*/2 * * * * *', command: ['node', '-e', 'console.log("tick " + process.env.GREETING)'] },
  slow: { schedule: '*/2 * * * * *', command: timed(5000), timeout: '1m' },
  hang: { schedule: '*/3 * * * * *', command: ['node', '-e', 'setInterval(() => {}, 1000)'], timeout: '2s' },
  broken: { schedule: '*/4 * * * * *', command: ['node', '-e', 'console.log("broken on purpose"); process.exit(1)'] },
  manual: { schedule: '0 0 1 1 *', timezone: 'Europe/Berlin', command: timed(4000) },
};

const deploySpec = (spec: Record<string, unknown>) =>
  daemon().stream('POST', '/apps/jobs/deploys', { image: SAMPLE, spec: { processes: { web: { port: 8000 } }, ...spec } }, () => undefined);

before(async () => {
  await platformWithApps(p, ['jobs'], { deploy: false });
  await p.ok(['config', 'set', 'jobs', 'GREETING=from-config', '--no-deploy']);
  await deploySpec({ cron });
});
after(() => p.destroy());

/** Start and end of each finished run, from its own output. */
function intervals(rs: Run[]): [number, number][] {
  return rs.filter((r) => r.state === 'succeeded').map((r) => {
    const m = /start (\d+)[^]*end (\d+)/.exec(r.log_tail ?? '');
    assert.ok(m, `run #${r.id} printed no start and end: ${r.log_tail}`);
    return [Number(m[1]), Number(m[2])] as [number, number];
  }).sort((a, b) => a[0] - b[0]);
}
const noOverlap = (iv: [number, number][]) => iv.forEach(([s], i) => i > 0 && assert.ok(s >= iv[i - 1]![1], `runs overlap: ${JSON.stringify(iv)}`));

test('the jobs of the live release are listed with their schedule and next run; each slot runs with the app\'s env', async () => {
  const list = await p.json<{ jobs: { job: string; schedule: string; timezone: string; next_run: string | null }[] }>(['cron', 'jobs']);
  assert.deepEqual(list.jobs.map((j) => j.job).sort(), ['broken', 'hang', 'manual', 'slow', 'tick']);
  const manual = list.jobs.find((j) => j.job === 'manual')!;
  assert.equal(manual.timezone, 'Europe/Berlin');
  assert.match(manual.next_run!, /-12-31T23:00:00\.000Z$/, 'midnight of January 1st in Berlin');
  const ticks = await until(async () => { const r = (await runs('tick')).filter((x) => x.state === 'succeeded'); return r.length >= 2 && r; }, 30_000,
    'two ticks');
  assert.equal(ticks[0]!.log_tail, 'tick from-config');
  assert.equal(ticks[0]!.exit_code, 0);
  assert.match((await p.ok(['cron', 'jobs'])).stdout, /tick\s+\*\/2 \* \* \* \* \*\s+UTC/);
});

test('a job slower than its interval: the slots due meanwhile are skipped, never two runs at once', async () => {
  const rs = await until(async () => {
    const r = await runs('slow');
    return r.filter((x) => x.state === 'succeeded').length >= 2 && r.some((x) => x.state === 'skipped') && r;
  }, 40_000, 'two slow runs and a skipped slot');
  noOverlap(intervals(rs));
  assert.equal(new Set(rs.map((r) => r.scheduled_at)).size, rs.length);
});

test('a run past its timeout is stopped and recorded as timeout; a failing job shows in status and apps show', async () => {
  const hung = await until(async () => (await runs('hang')).find((x) => x.state === 'timeout'), 30_000, 'a timeout');
  assert.ok(hung.duration_ms! >= 2000 && hung.duration_ms! < 10_000, String(hung.duration_ms));
  await until(async () => (await runs('broken')).some((x) => x.state === 'failed' && x.exit_code === 1), 30_000, 'a failed run');
  const status = await p.json<{ apps: { name: string; status: string }[] }>(['status']);
  assert.match(status.apps.find((a) => a.name === 'jobs')!.status, /cron .*broken failed \(exit 1\)/);
  assert.match((await p.ok(['apps', 'show', 'jobs'])).stdout, /cron\s+last run .*of broken failed \(exit 1\)/);
  assert.match((await p.ok(['cron', 'jobs', 'broken', '--history'])).stdout, /failed exit 1[^]*\| broken on purpose/);
});

test('a run by hand starts now; a second one while it goes on is skipped', async () => {
  const first = await p.json<Run>(['cron', 'jobs', 'manual', '--run-now']);
  assert.equal(first.state, 'running');
  const second = await p.json<Run>(['cron', 'jobs', 'manual', '--run-now']);
  assert.equal(second.state, 'skipped');
  await until(async () => (await runs('manual')).find((r) => r.id === first.id && r.state === 'succeeded'), 30_000, 'the run by hand to finish');
  const unknown = await p.berth(['cron', 'jobs', 'nope', '--run-now']);
  assert.equal(unknown.code, 3);
  assert.match(unknown.stderr, /no cron job "nope"[^]*its jobs: /);
});

test('a daemon killed during a run: the next one waits for it and records its end; no slot lost or run twice', async () => {
  const going = await until(async () => (await runs('slow')).find((r) => r.state === 'running'), 30_000, 'a slow run going on');
  // killed once its container exists: a kill before the create leaves nothing to wait for (interrupted)
  const label = [`berth.key=${going.id}`, `berth.instance=${p.instance}`];
  await until(async () => (await docker.listContainers({ all: true, filters: { label } })).length > 0, 5_000, 'the run\'s container');
  p.killDaemon('SIGKILL');
  await until(async () => !(await daemon().alive()), 10_000, 'the daemon to die');
  p.startDaemon({});
  await until(() => daemon().alive(), 30_000, 'the daemon to start again');
  const ended = await until(async () => (await runs('slow')).find((r) => r.id === going.id && r.state !== 'running'), 30_000, 'the run to be recorded');
  assert.equal(ended.state, 'succeeded', JSON.stringify(ended));
  assert.equal(ended.exit_code, 0);
  // the slots after it go on as before, one at a time
  const later = await until(async () => {
    const r = await runs('slow');
    return r.filter((x) => x.id > going.id && x.state === 'succeeded').length >= 1 && r;
  }, 40_000, 'a run after the restart');
  noOverlap(intervals(later));
  assert.equal(new Set(later.map((r) => r.scheduled_at)).size, later.length, 'a slot ran twice');
  assert.ok(!later.some((r) => r.state === 'interrupted'), JSON.stringify(later.map((r) => r.state)));
});

test('a deploy without the entries takes them off the schedule at once', async () => {
  await deploySpec({});
  const list = await p.json<{ jobs: unknown[] }>(['cron', 'jobs']);
  assert.deepEqual(list.jobs, []);
  const leftover = await until(async () => (await p.containers()).every((c) => !c.name.includes('-cron-')) || undefined, 70_000, 'the last runs to end');
  assert.ok(leftover);
});
