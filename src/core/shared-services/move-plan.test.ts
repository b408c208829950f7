import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BerthError } from '../../lib/errors.js';
import { emptyTally } from '../../provisioning/object-store/copy-plan.js';
import {
  appsToMove, CATCH_UP_MARGIN_MS, catchUpLine, catchUpSince, copyLine, dryRunRows, type MoveState, moveWarnings, nextStep, stillOnOld,
} from './move-plan.js';
import type { ServiceRecord } from './records.js';

const minio: ServiceRecord = { mode: 'container', store: 'minio', users: true, image: 'minio/minio:RELEASE.2025-04-22T22-12-26Z', accessKey: 'berth-admin',
  password: 'root' };
const state = (phase: MoveState['phase'], o: Partial<MoveState> = {}): MoveState => ({
  phase, started_at: '2026-01-01T00:00:00Z', garage: { mode: 'container', store: 'garage', users: true, password: 't', slot: 'garage' }, old: minio,
  grants: {}, listed_at: {}, ...o,
});
const refused = (rec: ServiceRecord | null, re: RegExp) =>
  assert.throws(() => nextStep(rec, null), (e: BerthError) => e.code === 'invalid' && re.test(e.message));

test('only a bundled MinIO moves; anything else is refused with the reason', () => {
  assert.deepEqual(nextStep(minio, null), { kind: 'start' });
  assert.deepEqual(nextStep({ mode: 'container', users: true, password: 'x' }, null), { kind: 'start' }, 'a MinIO record from before Garage');
  refused({ mode: 'container', store: 'garage', users: true, password: 'x' }, /Garage already/);
  refused({ mode: 'external', endpoint: 'https://s3.example.com', password: 'x' }, /external \(https:\/\/s3\.example\.com\)/);
  refused({ mode: 'container', store: 's3rver', password: 'S3RVER' }, /s3rver, not MinIO/);
  refused(null, /has not started/);
});

test('a move under way goes on from its phase, whatever the platform\'s store says now; a finished one is a no-op that says so', () => {
  const garageNow: ServiceRecord = { mode: 'container', store: 'garage', users: true, password: 'x', slot: 'garage' };
  assert.deepEqual(nextStep(minio, state('copying')), { kind: 'resume', phase: 'copying' });
  assert.deepEqual(nextStep(garageNow, state('switched')), { kind: 'resume', phase: 'switched' });
  const done = nextStep(garageNow, state('done', { done_at: '2026-01-02T00:00:00Z' }));
  assert.equal(done.kind, 'done');
  assert.match((done as { note: string }).note, /already moved to Garage \(2026-01-02T00:00:00Z\): nothing to do; the old MinIO is still there: .*remove-old/);
  assert.doesNotMatch((nextStep(garageNow, state('done', { old: null })) as { note: string }).note, /remove-old/);
});

test('apps with a bucket move; an app whose live release still has its MinIO key gets a release', () => {
  const g = { bucket: 'app-a', accessKey: 'app-a-000001', secretKey: 's', region: 'garage' };
  assert.deepEqual(appsToMove([
    { name: 'a', services: ['postgres', 's3'], grant: g }, { name: 'b', services: ['postgres'], grant: undefined },
    { name: 'c', services: ['s3'], grant: undefined }, // its provisioning never finished: nothing to copy, nothing stored
  ]), ['a']);
  assert.equal(stillOnOld({ S3_ACCESS_KEY: 'app-a-minio1' }, g), true);
  assert.equal(stillOnOld({ S3_ACCESS_KEY: 'app-a-000001' }, g), false);
  assert.equal(stillOnOld(null, g), false, 'no live release: its first deploy uses Garage');
});

test('a catch-up pass starts a margin before the listing of the copy before the switch', () => {
  assert.equal(catchUpSince(1_000_000_000), 1_000_000_000 - CATCH_UP_MARGIN_MS);
  assert.ok(CATCH_UP_MARGIN_MS >= 10 * 60_000, 'long enough for a large upload that began before the listing');
});

test('progress lines say how far of how many, the bytes copied, and what was already there', () => {
  const t = { ...emptyTally('pics', 'app-pics', 0), objects: 340, bytes: 9e7, done: 120, copied: 117, copiedBytes: 14_200_000, same: 3 };
  assert.equal(copyLine(t), 'app pics: 120/340 objects, 14.2 MB copied (3 already in Garage)');
  assert.equal(copyLine({ ...t, same: 0, gone: 1 }), 'app pics: 120/340 objects, 14.2 MB copied (1 deleted from MinIO before it was copied)');
  assert.equal(catchUpLine({ ...t, copied: 1, copiedBytes: 25 }), 'app pics: 1 object written to MinIO meanwhile copied (0.0 MB)');
  assert.equal(catchUpLine({ ...t, copied: 0, newer: 2 }), 'app pics: nothing written to MinIO meanwhile needed copying; 2 objects changed in both: '
    + 'Garage\'s (the new release\'s) kept');
  assert.deepEqual(dryRunRows([t]), [{ app: 'pics', bucket: 'app-pics', objects: 340, bytes: 9e7, to_copy: 117, bytes_to_copy: 14_200_000, skipped: 3 }]);
});

test('berth services says a move is under way, half done, or that the old MinIO is kept, with the command for each', () => {
  const at = { container: 'berth-s3', dataDir: '/var/lib/berth/services/s3' };
  assert.deepEqual(moveWarnings(null, at), []);
  assert.match(moveWarnings(state('copying'), at).join(), /under way .*apps still use MinIO: finish it with berth services move s3 --to garage/);
  assert.match(moveWarnings(state('switched'), at).join(), /half done.*berth services move s3 --to garage/);
  assert.match(moveWarnings(state('done'), at).join(), /old MinIO \(berth-s3\) .*\/var\/lib\/berth\/services\/s3.*berth services remove-old s3 --yes/);
  assert.deepEqual(moveWarnings(state('done', { old: null }), at), []);
});
