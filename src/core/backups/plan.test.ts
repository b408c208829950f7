import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backupFileName, backupHealth, countsOf, isoWeek, restoredDbName, toPrune, unfinishedMove, verdictOf } from './plan.js';

const out = (dump: string, restored: string) =>
  `berth: restored\nberth: checked\nberth: dump counts\n${dump}berth: restored counts\n${restored}berth: end\n`;

test('a verification whose restored tables hold the rows the dump holds is ok', () => {
  const v = verdictOf(out('public.users\t3\npublic."Weird Name"\t0\n', 'public."Weird Name"\t0\npublic.parent\t5\npublic.users\t3\n'), 0);
  assert.deepEqual(v, { state: 'ok', detail: 'restored, pg_amcheck found no corruption, 2 tables with 3 rows as the dump holds', tables: 2, rows: 3 });
});

test('a missing table or a different count fails the verification, saying which', () => {
  const v = verdictOf(out('public.users\t3\npublic.orders\t7\n', 'public.users\t2\n'), 0);
  assert.equal(v.state, 'failed');
  assert.match(v.detail, /public\.users: 3 rows in the dump, 2 restored; public\.orders: 7 rows in the dump, no such table restored/);
});

test('age says damaged, or another key; a step that fails is named', () => {
  assert.equal(verdictOf('age: error: no identity matched any of the recipients\n', 1).state, 'wrong_key');
  assert.equal(verdictOf('age: error: failed to decrypt and authenticate payload chunk\n', 1).state, 'damaged');
  assert.equal(verdictOf('age: error: failed to read header: parsing age header: unexpected intro\n', 1).state, 'damaged');
  assert.match(verdictOf('pg_restore: error: could not read input file\n', 1).detail, /^pg_restore failed \(exit 1\): pg_restore: error/);
  assert.match(verdictOf('berth: restored\npg_amcheck: error: btree index "i" is corrupt\n', 2).detail, /^pg_amcheck failed/);
  assert.equal(verdictOf(out('public.t\t1\n', 'public.t\t1\n').replace('berth: end\n', ''), 0).state, 'failed', 'a cut-off output passed');
  // only the last lines came back (the dump's counts cut off): no proof, not "0 tables, ok"
  assert.equal(verdictOf(out('public.t\t1\n', 'public.t\t1\n').replace(/^[^]*berth: dump counts\n/, ''), 0).state, 'failed');
});

test('counts and file names', () => {
  assert.deepEqual([...countsOf('public.a\t12\nnoise\npublic."b\tc"\t4\n')], [['public.a', 12], ['public."b\tc"', 4]]);
  assert.equal(backupFileName(new Date('2026-12-01T10:32:00.123Z'), 'a1b2'), '2026-12-01T10-32-00-123Z-a1b2.dump.age');
});

test('a restore\'s database: the app\'s database name and the time, within PostgreSQL\'s 63 bytes', () => {
  const at = new Date('2026-12-01T10:32:07Z');
  assert.equal(restoredDbName('app_shop', at), 'app_shop_r20261201103207');
  assert.equal(restoredDbName('a'.repeat(63), at).length, 63);
  assert.match(restoredDbName('a'.repeat(63), at), /_r20261201103207$/);
});

test('retention keeps the newest per day, ISO week and month, the newest of all, and the newest proven one', () => {
  const day = (d: string, id: number, v: string | null = null) => ({ id, created_at: `${d}T03:00:00.000Z`, verify_state: v });
  const bs = [day('2026-10-01', 1, 'ok'), day('2026-11-02', 2), day('2026-11-20', 3), day('2026-11-29', 4), day('2026-11-30', 5),
    { id: 6, created_at: '2026-11-30T15:00:00.000Z', verify_state: null }, day('2026-12-01', 7)];
  assert.deepEqual(toPrune(bs, { keep_daily: 2, keep_weekly: 0, keep_monthly: 0 }), [2, 3, 4, 5]);
  // id 1 is the only proven one: kept whatever the policy
  assert.deepEqual(toPrune(bs, { keep_daily: 1, keep_weekly: 0, keep_monthly: 0 }), [2, 3, 4, 5, 6]);
  // weeks: W49 (Dec 1; Nov 30 is its Monday, so 5 and 6 fall in it too), W48 (Nov 29, a Sunday), W47 (Nov 20)
  assert.deepEqual(toPrune(bs, { keep_daily: 0, keep_weekly: 3, keep_monthly: 0 }), [2, 5, 6]);
  assert.deepEqual(toPrune(bs, { keep_daily: 0, keep_weekly: 0, keep_monthly: 3 }), [2, 3, 4, 5]);
  assert.deepEqual(toPrune([], { keep_daily: 7, keep_weekly: 4, keep_monthly: 6 }), []);
  assert.equal(isoWeek(new Date('2026-11-29T00:00:00Z')), '2026-W48');
  assert.equal(isoWeek(new Date('2026-11-30T00:00:00Z')), '2026-W49');
  assert.equal(isoWeek(new Date('2027-01-01T00:00:00Z')), '2026-W53');
});

test('a backup state for status: failed beats an older success; stale past 1.5 intervals', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  const day = 86_400_000;
  const h = (o: Partial<Parameters<typeof backupHealth>[0]>) =>
    backupHealth({ lastOk: null, lastFailed: null, badVerify: null, since: '2026-12-01T10:00:00Z', intervalMs: day, now, ...o }).state;
  assert.equal(h({ lastOk: '2026-12-01T03:00:00Z' }), 'ok');
  assert.equal(h({ lastOk: '2026-11-30T03:00:00Z', lastFailed: '2026-12-01T03:00:00Z' }), 'failed');
  assert.equal(h({ lastOk: '2026-12-01T03:00:00Z', badVerify: 'backup #3 failed its verification' }), 'failed');
  assert.equal(h({ lastOk: '2026-11-29T22:00:00Z' }), 'stale');
  assert.equal(h({ lastOk: '2026-11-30T03:00:00Z' }), 'ok');
  assert.equal(h({}), 'none');
  assert.equal(h({ since: '2026-11-25T00:00:00Z' }), 'stale', 'an app that never had a backup in days is not "none"');
  assert.equal(h({ since: '2026-11-25T00:00:00Z', intervalMs: null }), 'none', 'no schedule: nothing is late');
});

test('a restore cut short between its grant\'s move and its record gives the app the live release\'s database back', () => {
  assert.equal(unfinishedMove('shop_r20261201', 'shop', []), 'shop', 'moved, never recorded: back');
  assert.equal(unfinishedMove('shop_r20261201', 'shop', ['shop_r20261201']), null, 'recorded (a rollback to before it since): stays');
  assert.equal(unfinishedMove('shop', 'shop', []), null, 'nothing moved');
  assert.equal(unfinishedMove('shop_r20261201', null, []), null, 'no live release to go back to');
});
