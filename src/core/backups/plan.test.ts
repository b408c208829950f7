import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backupFileName, countsOf, restoredDbName, verdictOf } from './plan.js';

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
