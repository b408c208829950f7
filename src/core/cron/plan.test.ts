import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atTick, catchUpSlot, logTail, prunable } from './plan.js';
import { compile, lastDue, patternError } from './pattern.js';
import { cronScheduleError } from '../spec/cron-syntax.js';

test('a due slot starts a run unless one of the same job is going on', () => {
  assert.deepEqual(atTick({ app: 'a', job: 'j' }, new Set()), { action: 'start' });
  assert.deepEqual(atTick({ app: 'a', job: 'j' }, new Set(['a/k', 'b/j'])), { action: 'start' });
  assert.equal(atTick({ app: 'a', job: 'j' }, new Set(['a/j'])).action, 'skip');
});

test('after a restart only the last missed slot runs, once, if it is recent and the job ran before', () => {
  const now = new Date('2026-12-01T10:00:30Z');
  const due = new Date('2026-12-01T10:00:00Z');
  assert.equal(catchUpSlot(due, '2026-12-01T09:59:00.000Z', now, 60_000), due);
  assert.equal(catchUpSlot(due, '2026-12-01T10:00:00.000Z', now, 60_000), null, 'the slot has a run already');
  assert.equal(catchUpSlot(due, null, now, 60_000), null, 'a job that never ran has nothing to catch up');
  assert.equal(catchUpSlot(due, '2026-12-01T09:00:00.000Z', new Date('2026-12-01T10:05:00Z'), 60_000), null, 'too late');
  assert.equal(catchUpSlot(null, '2026-12-01T09:00:00.000Z', now, 60_000), null);
});

test('the last due slot comes from the schedule, in its time zone', () => {
  const berlin = compile('0 3 * * *', 'Europe/Berlin');
  assert.equal(lastDue(berlin, new Date('2026-12-01T02:10:00Z'), 3_600_000)?.toISOString(), '2026-12-01T02:00:00.000Z');
  assert.equal(lastDue(berlin, new Date('2026-12-01T04:10:00Z'), 3_600_000), null, 'outside the window');
  assert.equal(lastDue(compile('*/2 * * * * *', 'UTC'), new Date('2026-12-01T10:00:05.500Z'), 10_000)?.toISOString(), '2026-12-01T10:00:04.000Z');
});

test('history keeps the newest runs per job, and never prunes one still running', () => {
  const rows = [5, 4, 3, 2, 1].map((id) => ({ id, state: id === 2 ? 'running' as const : 'succeeded' as const }));
  assert.deepEqual(prunable(rows, 2), [3, 1]);
  assert.deepEqual(prunable(rows, 10), []);
});

test('a run keeps the last lines of its output, capped in size', () => {
  const out = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n') + '\n';
  const tail = logTail(out);
  assert.equal(tail.split('\n').length, 40);
  assert.ok(tail.endsWith('line 99'));
  const long = logTail(`${'x'.repeat(20_000)}\nshort\n`, 40, 100);
  assert.equal(long, 'short');
  assert.ok(logTail('y'.repeat(20_000), 40, 100).length <= 100);
});

test('the spec check and the scheduler agree: croner decides, berth words the common mistakes', () => {
  for (const ok of ['*/2 * * * * *', '0 3 * * FRI#2', '@daily', '0 3 L * *']) {
    assert.equal(patternError(ok), null, ok);
    assert.equal(cronScheduleError(ok), null, ok);
  }
  assert.equal(cronScheduleError('0 3 * * 8'), 'day of week: "8" is outside 0-7');
  assert.match(cronScheduleError('0 0 3 * * * 2030')!, /found 7/);
  assert.notEqual(patternError('0 0 3 * * * 2030'), null, 'croner takes a year field only in another mode');
});
