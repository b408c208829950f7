import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseTypeDue, databaseAt, outsideWindow, parsePitrTime, windowOf } from './pitr-plan.js';
import type { RestoreRow } from '../../state/backups.js';

test('pitr: an instant is read as UTC unless it says otherwise; anything else is refused with the form to use', () => {
  assert.equal(parsePitrTime('2026-12-01 10:32:00').toISOString(), '2026-12-01T10:32:00.000Z');
  assert.equal(parsePitrTime('2026-12-01 10:32').toISOString(), '2026-12-01T10:32:00.000Z');
  assert.equal(parsePitrTime('2026-12-01T10:32:00.25Z').toISOString(), '2026-12-01T10:32:00.250Z');
  assert.equal(parsePitrTime('2026-12-01 11:32:00+01:00').toISOString(), '2026-12-01T10:32:00.000Z');
  assert.equal(parsePitrTime('2026-12-01 11:32:00+0100').toISOString(), '2026-12-01T10:32:00.000Z');
  assert.equal(parsePitrTime('2026-12-01 08:32:00-02').toISOString(), '2026-12-01T10:32:00.000Z');
  for (const bad of ['yesterday', '2026-13-01 10:00:00', '2026-02-30 10:00:00', '2026-12-01 24:00:00',
    '2026-12-01 10:60:00', '2026-12-01', '10:32:00', "2026-12-01 10:32:00'; DROP"]) {
    assert.throws(() => parsePitrTime(bad), /is not an instant berth can restore to/, bad);
  }
});

test('pitr: the window runs from the end of the oldest base backup to now; a failing archiver is said', () => {
  const info = JSON.stringify([{ backup: [
    { label: 'F1', type: 'full', timestamp: { start: 1796159518, stop: 1796159520 }, info: { repository: { delta: 2846784 } } },
    { label: 'D1', type: 'diff', timestamp: { start: 1796200000, stop: 1796200003 } },
  ] }]);
  const now = new Date('2026-12-02T00:00:00Z');
  const w = windowOf(info, '1796200100|1796200200|000000010000000000000007\n', now);
  assert.equal(w.from, new Date(1796159520 * 1000).toISOString());
  assert.equal(w.to, now.toISOString());
  assert.deepEqual(w.base_backups.map((b) => [b.label, b.type, b.stored_bytes]), [['F1', 'full', 2846784], ['D1', 'diff', 0]]);
  assert.deepEqual(w.archive_failing, { at: new Date(1796200200 * 1000).toISOString(), wal: '000000010000000000000007' });
  assert.equal(windowOf(info, '1796200300|1796200200|x', now).archive_failing, null, 'a success after the failure clears it');
  const empty = windowOf('[{"backup":[]}]', '||', now);
  assert.equal(empty.from, null);
  assert.match(outsideWindow(empty, now)!, /no base backup yet/);
  assert.match(outsideWindow(w, new Date('2001-01-01T00:00:00Z'))!, /not after the oldest base backup ended/);
  assert.match(outsideWindow(w, new Date(w.from!))!, /not after/, 'the instant a base backup ended cannot be restored to');
  assert.match(outsideWindow(w, new Date(Date.now() + 60_000))!, /in the future/);
  assert.equal(outsideWindow(w, new Date(1796159600 * 1000)), null);
});

test('pitr: the copy on a target is pruned only while pgBackRest finds the repository sound and holding a base backup', () => {
  const now = new Date('2026-12-02T00:00:00Z');
  const full = { label: 'F1', type: 'full', timestamp: { start: 1796159518, stop: 1796159520 } };
  const of = (x: object) => windowOf(JSON.stringify([x]), '||', now).repo_sound;
  assert.equal(of({ status: { code: 0, message: 'ok' }, backup: [full] }), true);
  assert.equal(of({ status: { code: 0, message: 'ok' }, backup: [] }), false, 'an emptied repository');
  assert.equal(of({ status: { code: 2, message: 'no valid backups' }, backup: [full] }), false);
  assert.equal(of({ status: { code: 99, message: 'other' }, backup: [full] }), false, 'a damaged repository');
  assert.equal(of({ backup: [full] }), false, 'no status said');
  assert.equal(windowOf('[]', '||', now).repo_sound, false, 'no stanza');
});

test('pitr: the database an app had at an instant is the one the first later restore replaced', () => {
  const r = (at: string, previous_db: string, db: string): RestoreRow => ({ id: 1, app: 'a', backup: 1, db, previous_db, at, actor: 'x', purged_at: null });
  const restores = [r('2026-12-01T12:00:00Z', 'a_db', 'a_db_r1'), r('2026-12-01T14:00:00Z', 'a_db_r1', 'a_db_r2')];
  assert.equal(databaseAt(restores, 'a_db_r2', new Date('2026-12-01T11:00:00Z')), 'a_db');
  assert.equal(databaseAt(restores, 'a_db_r2', new Date('2026-12-01T13:00:00Z')), 'a_db_r1');
  assert.equal(databaseAt(restores, 'a_db_r2', new Date('2026-12-01T15:00:00Z')), 'a_db_r2');
});

test('pitr: a full base backup once a week, differential ones between', () => {
  const now = new Date('2026-12-08T02:30:00Z');
  const full = (daysAgo: number) => ({
    label: 'F', type: 'full', started_at: '', finished_at: new Date(now.getTime() - daysAgo * 86_400_000).toISOString(), stored_bytes: 0,
  });
  assert.equal(baseTypeDue([], now), 'full');
  assert.equal(baseTypeDue([full(1)], now), 'diff');
  assert.equal(baseTypeDue([full(7)], now), 'full');
});
