import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeCore } from '../testing.js';
import { currentIncidents } from '../notify/notify.js';
import { platformBackupStatus } from './status.js';

test('berth status: the platform backup and the WAL archive, failed when their last run failed or archiving fails, ok after', () => {
  const { ctx } = fakeCore();
  assert.deepEqual(platformBackupStatus(ctx), { platform: null, archive: null }, 'nothing to say without apps');
  ctx.store.insertApp({ name: 'shop', port: 8000, health_path: '/health' });
  assert.equal(platformBackupStatus(ctx).platform?.state, 'none');
  assert.equal(platformBackupStatus(ctx).archive, null, 'the archive was never looked at');
  ctx.store.audit({ actor: 'berth', action: 'backup.platform', app: null, result: 'failed', detail: {} });
  assert.equal(platformBackupStatus(ctx).platform?.state, 'failed');
  assert.match(platformBackupStatus(ctx).platform!.detail, /the last platform backup failed at/);
  ctx.archiveHealth = { lastBase: new Date().toISOString(), failing: { at: new Date().toISOString(), wal: '000000010000000000000007' } };
  assert.equal(platformBackupStatus(ctx).archive?.state, 'failed');
  assert.deepEqual(currentIncidents(ctx).map((i) => i.key).sort(), ['backup archive', 'backup platform']);
  ctx.store.audit({ actor: 'berth', action: 'backup.platform', app: null, result: 'succeeded', detail: {} });
  ctx.archiveHealth = { lastBase: new Date().toISOString(), failing: null };
  assert.deepEqual([platformBackupStatus(ctx).platform?.state, platformBackupStatus(ctx).archive?.state], ['ok', 'ok']);
  assert.deepEqual(currentIncidents(ctx), []);
  ctx.archiveHealth = { lastBase: new Date(Date.now() - 40 * 3_600_000).toISOString(), failing: null };
  assert.equal(platformBackupStatus(ctx).archive?.state, 'stale', 'no base backup for 40 h: the daily one stopped');
});
