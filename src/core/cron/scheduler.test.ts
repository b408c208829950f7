// The scheduler on the fake core: runs recorded, overlaps skipped, timeouts, and what a daemon
// that starts again does with the runs the previous one left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeCore } from '../testing.js';
import { CronScheduler } from './scheduler.js';

async function until<T>(fn: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function appWithCron(cron: Record<string, { schedule: string; command: string[]; timeout_ms?: number }>) {
  const core = fakeCore();
  const { ctx, rt } = core;
  rt.addImage('img:1');
  ctx.store.insertApp({ name: 'shop', port: 8000, health_path: '/health' });
  const spec = { cron: Object.fromEntries(Object.entries(cron).map(([n, c]) => [n, { timezone: 'UTC', process: 'web', timeout_ms: 60_000, ...c }])) };
  const r = ctx.store.insertRelease({
    app: 'shop', image: 'img:1', image_id: 'img:1', digest: null, port: 8000, health_path: '/health', processes: '{"web":{}}',
    env: ctx.cipher.encryptJSON({}), actor: 't', note: null, spec: JSON.stringify(spec),
  });
  ctx.store.setLive('shop', r.id);
  return core;
}

test('every slot is a run; a slot due while the last run goes on is skipped; never two at once; a timeout is recorded', async () => {
  const { ctx, rt } = appWithCron({ slow: { schedule: '* * * * * *', command: ['sleep', '1500'] }, hung: { schedule: '* * * * * *', command: ['sleep',
    '60000'], timeout_ms: 500 } });
  const cron = new CronScheduler(ctx);
  let most = 0;
  const watch = setInterval(() => { most = Math.max(most, [...rt.started.values()].filter((o) => o.key && o.running && o.cmd[1] === '1500').length); }, 5);
  try {
    await cron.start();
    await until(() => ctx.store.cron.history('shop', 'slow', 50).filter((r) => r.state === 'succeeded').length >= 2, 10_000, 'two runs');
    await until(() => ctx.store.cron.history('shop', 'hung', 50).some((r) => r.state === 'timeout'), 10_000, 'a timeout');
  } finally {
    cron.stop();
    clearInterval(watch);
  }
  await cron.idle();
  const slow = ctx.store.cron.history('shop', 'slow', 50);
  assert.ok(slow.some((r) => r.state === 'skipped'), JSON.stringify(slow.map((r) => r.state)));
  assert.equal(most, 1, 'two runs of one job at once');
  assert.equal(new Set(slow.map((r) => r.scheduled_at)).size, slow.length);
});

test('a restarted daemon waits for a run still going, marks a run whose container is gone, and catches up the last missed slot once', async () => {
  const { ctx, rt } = appWithCron({ nightly: { schedule: '0 3 * * *', command: ['sleep', '300'] }, often: { schedule: '* * * * * *', command: ['exit',
    '0', 'hi'] } });
  // what a daemon that died left: a run going on, and a run that never got its container
  const going = ctx.store.cron.insert({ app: 'shop', job: 'nightly', release: 'v1', trigger: 'schedule', scheduled_at: '2026-01-01T03:00:00.000Z',
    timeout_ms: 60_000, actor: 'berth', state: 'running' })!;
  await rt.startOneOff({ app: 'shop', release: 'v1', process: 'web', image: 'img:1', env: {}, port: 8000 }, ['sleep', '300'], { kind: 'cron',
    key: String(going.id) });
  const lost = ctx.store.cron.insert({ app: 'shop', job: 'often', release: 'v1', trigger: 'schedule', scheduled_at: new Date(Date.now() - 60_000).toISOString(),
    timeout_ms: 60_000, actor: 'berth', state: 'running' })!;
  const cron = new CronScheduler(ctx, 10 * 60_000);
  await cron.start();
  cron.stop(); // no further slots: only what the start did
  await cron.idle();
  assert.equal(ctx.store.cron.byId(going.id)!.state, 'succeeded');
  assert.equal(ctx.store.cron.byId(lost.id)!.state, 'interrupted');
  const often = ctx.store.cron.history('shop', 'often', 50);
  assert.deepEqual(often.map((r) => `${r.trigger}:${r.state}`), ['catch-up:succeeded', 'schedule:interrupted'], 'the missed slots ran once');
  assert.equal(ctx.store.cron.history('shop', 'nightly', 50).length, 1, 'a slot outside the window is not caught up');
  assert.deepEqual(await rt.listOneOffs('cron'), []);
});
