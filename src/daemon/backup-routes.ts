// The API of backups: the platform's key, off-site targets, each app's backups, and the
// notification channel that hears of their failures. An app's backups outlive the
// app, so reading, verifying and deleting them name the app without requiring it to exist.
import { readFileSync } from 'node:fs';
import type { Ctx } from '../core/context.js';
import { createBackup, deleteBackup, listBackups, verifyBackup } from '../core/backups/backups.js';
import { ensureBackupKey, mustBackupKey } from '../core/backups/key.js';
import * as v from '../lib/validate.js';
import { purgeRestored, restoreBackup, restoresOf } from '../core/backups/restore.js';
import { policyOf } from '../core/backups/backups.js';
import { ValidationError } from '../lib/errors.js';
import { addTarget, listTargets, removeTarget } from '../core/backups/offsite.js';
import { post, redacted, setWebhook, webhookOf } from '../core/notify/notify.js';
import { BerthError } from '../lib/errors.js';
import { hostname } from 'node:os';
import { baseBackup, pitrWindow, pushArchive, restoreAt } from '../core/backups/pitr.js';
import { createPlatformBackup, PLATFORM, restoreData } from '../core/backups/platform.js';
import { parsePitrTime } from '../core/backups/pitr-plan.js';
import {
  BackupPolicyBody, BackupRestoreBody, PitrBaseBody, PlatformBackupBody, RestoreDataBody, BackupTargetBody, BackupVerifyBody, NotifyBody, parseBody,
} from './bodies.js';
import { actorOf, mustApp } from './handlers.js';
import type { Reply, Router } from './http.js';

function policyView(ctx: Ctx, app: string) {
  const next = ctx.backups?.nextOf(app);
  return { app, policy: policyOf(ctx, app), next_backup: next?.backup ?? null, next_verify: next?.verify ?? null };
}

export function backupRoutes(api: Router, ctx: Ctx, P: string): void {
  api.on('POST', `${P}/backups/key`, () => ensureBackupKey(ctx));
  api.on('GET', `${P}/backups/key`, () => mustBackupKey(ctx.paths));
  // the identity itself, for the copy the operator keeps away from the server (the CLI asks first)
  api.on('POST', `${P}/backups/key/export`, (r) => {
    const k = mustBackupKey(ctx.paths);
    ctx.store.audit({ actor: actorOf(r), action: 'backup.key.export', app: null, result: 'exported', detail: { recipient: k.recipient } });
    return { ...k, identity: readFileSync(k.path, 'utf8') };
  });

  api.on('GET', `${P}/notify`, () => { const url = webhookOf(ctx); return { webhook: url && redacted(url), incidents: ctx.store.incidents() }; });
  api.on('PUT', `${P}/notify/webhook`, async (r) => setWebhook(ctx, parseBody(NotifyBody, await r.json()).url, actorOf(r)));
  api.on('POST', `${P}/notify/test`, async () => {
    const url = webhookOf(ctx);
    if (!url) throw new BerthError('conflict', 'no webhook is set', 'berth notify webhook URL');
    await post(url, { text: `berth on ${hostname()}: a test message (berth notify webhook --test)`, berth: { event: 'test', host: hostname() } });
    return { sent: true };
  });
  api.on('GET', `${P}/backups/targets`, () => listTargets(ctx));
  api.on('POST', `${P}/backups/targets`, async (r) => {
    const { name, ...t } = parseBody(BackupTargetBody, await r.json());
    return addTarget(ctx, name, t, actorOf(r));
  });
  api.on('DELETE', `${P}/backups/targets/:target`, (r) => removeTarget(ctx, r.params.target!, actorOf(r)));

  api.on('GET', `${P}/apps/:name/backups`, (r) => listBackups(ctx, v.appName(r.params.name!)));
  api.on('POST', `${P}/apps/:name/backups`, (r) => {
    const app = mustApp(ctx, r.params.name!);
    return { kind: 'ndjson', run: (emit) => {
      emit({ type: 'progress', line: `dumping ${app}'s database into age (pg_dump's custom format, encrypted as it streams)` });
      return createBackup(ctx, app, { actor: actorOf(r), trigger: 'manual' });
    } } satisfies Reply;
  });
  api.on('POST', `${P}/apps/:name/backups/verify`, async (r) => {
    const app = v.appName(r.params.name!);
    const b = parseBody(BackupVerifyBody, await r.json());
    return { kind: 'ndjson', run: (emit) => {
      emit({ type: 'progress', line: 'restoring it into a scratch database no app can reach, then pg_amcheck and the row counts' });
      return verifyBackup(ctx, app, { id: b.id, actor: actorOf(r) });
    } } satisfies Reply;
  });
  api.on('GET', `${P}/apps/:name/backups/policy`, (r) => policyView(ctx, mustApp(ctx, r.params.name!)));
  api.on('PUT', `${P}/apps/:name/backups/policy`, async (r) => {
    const app = mustApp(ctx, r.params.name!);
    const b = parseBody(BackupPolicyBody, await r.json());
    const next = { ...policyOf(ctx, app), ...b };
    const { patternError } = await import('../core/cron/pattern.js');
    for (const [key, s] of [['schedule', next.schedule], ['verify_schedule', next.verify_schedule]] as const) {
      const why = s ? patternError(s) : null;
      if (why) throw new ValidationError(key, `${JSON.stringify(s)} is not a schedule: ${why}`, 'cron syntax, e.g. "0 3 * * *" (03:00 every day)');
    }
    try { new Intl.DateTimeFormat('en', { timeZone: next.timezone }); } catch {
      throw new ValidationError('timezone', `${JSON.stringify(next.timezone)} is not a time zone`, 'an IANA name such as Europe/Berlin or Etc/UTC');
    }
    ctx.store.backups.setPolicy(app, JSON.stringify(next));
    ctx.store.audit({ actor: actorOf(r), action: 'backup.policy', app, result: 'set', detail: next });
    await ctx.backups?.sync();
    return policyView(ctx, app);
  });
  api.on('POST', `${P}/apps/:name/backups/restore`, async (r) => {
    const app = mustApp(ctx, r.params.name!);
    const b = parseBody(BackupRestoreBody, await r.json());
    const at = b.at === undefined ? undefined : parsePitrTime(b.at); // refused before anything runs
    return { kind: 'ndjson', run: (emit) => (at
      ? restoreAt(ctx, app, at, { dryRun: b.dry_run, actor: actorOf(r) }, emit)
      : restoreBackup(ctx, app, { id: b.id, dryRun: b.dry_run, actor: actorOf(r) }, emit)) } satisfies Reply;
  });
  api.on('GET', `${P}/backups/pitr`, () => pitrWindow(ctx));
  api.on('POST', `${P}/backups/pitr/push`, async () => ({ copies: await pushArchive(ctx, { now: true }), ...(await pitrWindow(ctx)) }));
  api.on('GET', `${P}/backups/platform`, () => listBackups(ctx, PLATFORM));
  api.on('POST', `${P}/backups/platform`, async (r) => {
    const b = parseBody(PlatformBackupBody, await r.json());
    return { kind: 'ndjson', run: (emit) => createPlatformBackup(ctx, { actor: actorOf(r), fresh: true, images: b.images }, emit) } satisfies Reply;
  });
  // restore-host, once the platform is up again on the restored state: every app's data back
  api.on('POST', `${P}/platform/restore-data`, async (r) => {
    const b = parseBody(RestoreDataBody, await r.json());
    return { kind: 'ndjson', run: (emit) => restoreData(ctx, { actor: actorOf(r), fromArchive: b.from_archive }, emit) } satisfies Reply;
  });
  api.on('POST', `${P}/backups/pitr/base`, async (r) => {
    const b = parseBody(PitrBaseBody, await r.json());
    return { kind: 'ndjson', run: (emit) => {
      emit({ type: 'progress', line: `taking a ${b.type ?? 'full or differential (as due)'} base backup of the shared PostgreSQL (pgBackRest)` });
      return baseBackup(ctx, { type: b.type, actor: actorOf(r) });
    } } satisfies Reply;
  });
  api.on('GET', `${P}/apps/:name/restores`, (r) => restoresOf(ctx, mustApp(ctx, r.params.name!)));
  api.on('DELETE', `${P}/apps/:name/restores/:id`, (r) =>
    purgeRestored(ctx, mustApp(ctx, r.params.name!), { id: parseBody(BackupVerifyBody, { id: Number(r.params.id) }).id!, actor: actorOf(r) }));
  api.on('DELETE', `${P}/apps/:name/backups/:id`, (r) =>
    deleteBackup(ctx, v.appName(r.params.name!), { id: parseBody(BackupVerifyBody, { id: Number(r.params.id) }).id!, actor: actorOf(r) }));
}
