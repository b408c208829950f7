import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cron } from 'croner';
import { compile, nextSlot } from './pattern.js';

test('a UTC schedule is a fixed offset (no Intl) and gives the slots the named zone gives', () => {
  const after = [new Date('2026-03-29T00:30:00Z'), new Date('2026-10-25T02:59:59Z'), new Date('2026-12-31T23:59:00Z')];
  for (const tz of ['UTC', 'Etc/UTC', 'GMT']) {
    for (const pattern of ['0 3 * * *', '*/15 * * * *', '0 4 * * 0', '@monthly', '30 0 0 * * *']) {
      const s = compile(pattern, tz);
      assert.equal(s.options.timezone, undefined, `${tz} went through Intl`);
      const named = new Cron(pattern, { mode: '5-or-6-parts', paused: true, timezone: 'Etc/UTC' });
      for (const t of after) assert.equal(nextSlot(s, t)?.toISOString(), named.nextRun(t)?.toISOString(), `${pattern} in ${tz} after ${t.toISOString()}`);
    }
  }
});

test('a named zone keeps its own clock', () => {
  const s = compile('0 3 * * *', 'Europe/Berlin');
  assert.equal(nextSlot(s, new Date('2026-07-01T00:00:00Z'))?.toISOString(), '2026-07-01T01:00:00.000Z');
  assert.equal(nextSlot(s, new Date('2026-12-01T00:00:00Z'))?.toISOString(), '2026-12-01T02:00:00.000Z');
});
