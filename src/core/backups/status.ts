// An app's backups as berth status shows them: failed (the last backup, or the last
// verification), stale (nothing newer than 1.5 times the schedule's interval), ok, or none yet.
import type { Ctx } from '../context.js';
import { grantsOf } from '../shared-services/services.js';
import { backupHealth } from './plan.js';
import { currentBackups } from './backups.js';

export function backupStatus(ctx: Ctx, app: string): ({ last: string | null } & ReturnType<typeof backupHealth>) | null {
  const row = ctx.store.getApp(app);
  if (!row || !grantsOf(ctx, app).postgres) return null;
  const backups = currentBackups(ctx, app);
  const failed = ctx.store.lastAudit(app, 'backup.create');
  const verified = backups.filter((b) => b.verified_at).sort((a, b) => b.verified_at!.localeCompare(a.verified_at!))[0];
  const h = backupHealth({
    lastOk: backups[0]?.created_at ?? null, lastFailed: failed?.result === 'failed' ? failed.at : null,
    badVerify: verified && verified.verify_state !== 'ok' ? `backup #${verified.id} failed its verification (${verified.verify_state})` : null,
    since: row.created_at, intervalMs: ctx.backups?.intervalOf(app) ?? null, now: new Date(),
  });
  return { last: backups[0]?.created_at ?? null, ...h };
}
