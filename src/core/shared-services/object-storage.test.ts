import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BerthError } from '../../lib/errors.js';
import { fakeCore } from '../testing.js';
import { firstS3Record } from './object-storage.js';

test('object storage falls back to s3rver only when no registry answers; any other pull failure chooses nothing', async () => {
  for (const [reason, message] of [['not_found', 'manifest unknown'], ['unauthorized', 'unauthorized: authentication required'],
    ['rate_limited', 'toomanyrequests'], ['timeout', 'Client.Timeout exceeded']] as const) {
    const { ctx, rt } = fakeCore({ services: ['s3'] });
    rt.pullable = async () => ({ ok: false, reason, message });
    await assert.rejects(firstS3Record(ctx, () => undefined),
      (e: BerthError) => e.details?.reason === reason && /next berth up tries again|when this succeeds/.test(e.hint ?? ''), reason);
    assert.equal(ctx.store.getService('s3'), undefined, `a ${reason} failure fixed the choice`);
  }
  const offline = fakeCore({ services: ['s3'] });
  const lines: string[] = [];
  const rec = await firstS3Record(offline.ctx, (l) => lines.push(l));
  assert.equal(rec.users, undefined, 'offline: s3rver, which has no users');
  assert.ok(offline.ctx.store.getService('s3'), 'the offline choice is recorded');
  assert.match(lines.join('\n'), /no registry answers.*s3rver.*share one key/);
  const pulled = fakeCore({ services: ['s3'] });
  pulled.rt.registry.set(pulled.ctx.settings.minio_image, { id: 'sha256:m', digest: null });
  assert.equal((await firstS3Record(pulled.ctx, () => undefined)).users, true, 'MinIO when its image can be had');
});
