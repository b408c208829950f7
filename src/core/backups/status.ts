// An app's backups as berth status shows them: failed (the last backup, or the last
// verification), stale (nothing newer than 1.5 times the schedule's interval), ok, or none yet;
// and the platform's own: its platform backup and the WAL archive's base backups (daily both).
import type { Ctx } from '../context.js';
import { grantsOf } from '../shared-services/services.js';
import { backupHealth } from './plan.js';
import { currentBackups } from './backups.js';
import { byCodeUnit } from '../../lib/order.js';

export function backupStatus(ctx: Ctx, app: string): ({ last: string | null } & ReturnType<typeof backupHealth>) | null {
  const row = ctx.store.getApp(app);
  if (!row || !grantsOf(ctx, app).postgres) return null;
  const backups = currentBackups(ctx, app);
  const failed = ctx.store.lastAudit(app, 'backup.create');
  const verified = backups.filter((b) => b.verified_at).sort((a, b) => byCodeUnit(b.verified_at!, a.verified_at!))[0];
  const h = backupHealth({
    lastOk: backups[0]?.created_at ?? null, lastFailed: failed?.result === 'failed' ? failed.at : null,
    badVerify: verified && verified.verify_state !== 'ok' ? `backup #${verified.id} failed its verification (${verified.verify_state})` : null,
    since: row.created_at, intervalMs: ctx.backups?.intervalOf(app) ?? null, now: new Date(),
  });
  return { last: backups[0]?.created_at ?? null, ...h };
}

const DAY_MS = 24 * 3_600_000;
type Health = ReturnType<typeof backupHealth>;

/** The platform backup and the WAL archive (absent where there is none), as the apps' backups. */
export function platformBackupStatus(ctx: Ctx): { platform: Health | null; archive: Health | null } {
  const apps = ctx.store.listApps();
  if (!apps.length) return { platform: null, archive: null };
  const since = apps.map((a) => a.created_at).sort()[0]!;
  const at = (action: string, result: string) => ctx.store.lastPlatformAudit(action, result)?.at ?? null;
  const platform = backupHealth({ lastOk: at('backup.platform', 'succeeded'), lastFailed: at('backup.platform', 'failed'), badVerify: null,
    since, intervalMs: DAY_MS, now: new Date() });
  const a = ctx.archiveHealth;
  const archive = a ? backupHealth({
    lastOk: a.lastBase ?? at('backup.base', 'succeeded'), lastFailed: at('backup.base', 'failed'),
    badVerify: a.failing ? `WAL archiving is failing since ${a.failing.at} (segment ${a.failing.wal})` : null, since, intervalMs: DAY_MS, now: new Date(),
  }) : null;
  return { platform: { ...platform, detail: platform.detail.replace('backup', 'platform backup') }, archive: archive && { ...archive,
    detail: archive.detail.replace('backup', 'base backup') } };
}
