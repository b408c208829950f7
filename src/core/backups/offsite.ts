// Off-site copies (berth backup target s3 ...): each backup is copied to every target once
// written, read back whole and its sha256 compared with the one recorded, and only then counted
// as stored there. rclone does the transfer inside berth/pg-tools (streamed multipart uploads,
// retries), so the daemon never holds a backup in memory. The target's secret key is encrypted
// in berth's state and reaches the task in a 0600 config file, never in an env.
import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError, ValidationError } from '../../lib/errors.js';
import * as v from '../../lib/validate.js';
import type { BackupRow, TargetRow } from '../../state/backups.js';
import type { Ctx } from '../context.js';
import { backupDir } from './backups.js';

const COPY_TIMEOUT_MS = 6 * 3600_000;

export interface S3Target { endpoint: string; bucket: string; region: string; prefix: string; access_key: string; secret_key: string }

/** The target's settings, checked at the edge: no value may hold a line break (rclone's config is lines). */
export function checkTarget(t: S3Target): S3Target {
  let url: URL;
  try {
    url = new URL(t.endpoint);
  } catch {
    throw new ValidationError('endpoint', `${JSON.stringify(t.endpoint)} is not a URL`, 'e.g. https://s3.eu-central-1.amazonaws.com');
  }
  if (!['http:', 'https:'].includes(url.protocol)) throw new ValidationError('endpoint', 'must be http:// or https://');
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(t.bucket)) throw new ValidationError('bucket', `${JSON.stringify(t.bucket)} is not an S3 bucket name`);
  if (!/^[A-Za-z0-9._/-]{0,200}$/.test(t.prefix) || t.prefix.includes('..')) throw new ValidationError('prefix', 'letters, digits, . _ - and / only');
  for (const [k, x] of Object.entries(t)) if (/[\r\n]/.test(x)) throw new ValidationError(k, 'must be one line');
  if (!t.access_key || !t.secret_key) throw new ValidationError(t.access_key ? 'secret_key' : 'access_key', 'is required');
  return { ...t, prefix: t.prefix.replace(/^\/+|\/+$/g, '') };
}

const targetOf = (ctx: Ctx, row: TargetRow) => ctx.cipher.decryptJSON(row.config) as S3Target;
/** Where a backup goes on a target: the prefix, the app, the file. */
export const keyAt = (t: S3Target, b: Pick<BackupRow, 'app' | 'file'>) => `${t.bucket}/${[t.prefix, b.app, b.file].filter(Boolean).join('/')}`;

export function rcloneConf(t: S3Target): string {
  return ['[target]', 'type = s3', 'provider = Other', 'env_auth = false', `access_key_id = ${t.access_key}`, `secret_access_key = ${t.secret_key}`,
    `endpoint = ${t.endpoint}`, `region = ${t.region}`, 'force_path_style = true', ''].join('\n');
}

/** A pg-tools task with rclone's remote "target" set to t; dir is the task's /out. */
export async function rclone(ctx: Ctx, app: string, t: S3Target, cmd: string, env: Record<string, string>, dir = backupDir(ctx, app)): Promise<string> {
  const r = await ctx.runtime.services.task('pg-tools', {
    name: `${app}-${cmd}`, cmd: [cmd], env, secretFiles: { 'rclone.conf': rcloneConf(t) }, outputDir: dir,
  }, { timeoutMs: COPY_TIMEOUT_MS });
  if (r.exitCode !== 0) throw new BerthError('command_failed', `${cmd} on ${t.endpoint}/${t.bucket} failed: ${r.output.trim().slice(-400)}`);
  return r.output;
}

/** Adds (or replaces) a target once a probe object was written, read and removed there. */
export async function addTarget(ctx: Ctx, name: string, raw: S3Target, actor: string): Promise<{ name: string; endpoint: string; bucket: string }> {
  v.appName(name, 'name'); // the same shape as an app name
  const t = checkTarget(raw);
  await rclone(ctx, '_targets', t, 'probe', { KEY_AT: `${t.bucket}/${[t.prefix, `.berth-probe-${Date.now()}`].filter(Boolean).join('/')}` })
    .catch((e: BerthError) => {
      throw new BerthError('invalid', `the target does not work: ${e.message}`, 'check the endpoint, bucket and keys; nothing was saved');
    });
  ctx.store.backups.addTarget(name, ctx.cipher.encryptJSON(t));
  ctx.store.audit({ actor, action: 'backup.target', app: null, result: 'added', detail: { name, endpoint: t.endpoint, bucket: t.bucket, prefix: t.prefix } });
  return { name, endpoint: t.endpoint, bucket: t.bucket };
}

export function listTargets(ctx: Ctx) {
  return ctx.store.backups.targets().map((r) => {
    const t = targetOf(ctx, r);
    return { name: r.name, kind: r.kind, endpoint: t.endpoint, bucket: t.bucket, prefix: t.prefix, access_key: t.access_key,
      last_success_at: r.last_success_at, last_error: r.last_error };
  });
}

export function removeTarget(ctx: Ctx, name: string, actor: string): { removed: string } {
  if (!ctx.store.backups.targets().some((r) => r.name === name)) {
    throw new BerthError('not_found', `no backup target ${name}`, 'list them: berth backup targets');
  }
  ctx.store.backups.removeTarget(name);
  ctx.store.audit({ actor, action: 'backup.target', app: null, result: 'removed', detail: { name } });
  return { removed: name };
}

/** Copies a backup to every target: uploaded, read back, its sha256 compared; each target's
 *  failure is recorded and said, the others go on. */
export async function copyOffsite(ctx: Ctx, b: BackupRow): Promise<{ target: string; ok: boolean; error?: string }[]> {
  const out: { target: string; ok: boolean; error?: string }[] = [];
  for (const row of ctx.store.backups.targets()) {
    const t = targetOf(ctx, row);
    const key = keyAt(t, b);
    try {
      await rclone(ctx, b.app, t, 'copy-to', { FILE: b.file, KEY_AT: key });
      const sum = /^([0-9a-f]{64})\s/m.exec(await rclone(ctx, b.app, t, 'sum-at', { KEY_AT: key }))?.[1];
      if (sum !== b.sha256) throw new BerthError('command_failed', `the copy on ${row.name} reads back with sha256 ${sum ?? 'none'}, not ${b.sha256}`);
      ctx.store.backups.copied(b.id, row.name, key);
      ctx.store.backups.targetOutcome(row.name, null);
      out.push({ target: row.name, ok: true });
    } catch (e) {
      ctx.store.backups.targetOutcome(row.name, (e as Error).message);
      const error = (e as Error).message;
      ctx.store.audit({ actor: 'berth', action: 'backup.copy', app: b.app, result: 'failed', detail: { id: b.id, target: row.name, error } });
      out.push({ target: row.name, ok: false, error: (e as Error).message });
    }
  }
  return out;
}

/** Copies a directory tree (the WAL archive) to every target under PREFIX/name: new and changed
 *  files go, and with prune what is no longer in dir goes from there once they are; each
 *  target's outcome is recorded, the others go on. */
export async function copyTreeOffsite(ctx: Ctx, dir: string, name: string, o: { prune: boolean })
  : Promise<{ target: string; ok: boolean; error?: string }[]> {
  const out: { target: string; ok: boolean; error?: string }[] = [];
  for (const row of ctx.store.backups.targets()) {
    const t = targetOf(ctx, row);
    try {
      // the task is named after the tree's first part: a container name holds no slash
      const env = { KEY_AT: `${t.bucket}/${[t.prefix, name].filter(Boolean).join('/')}`, ...(o.prune ? { PRUNE: '1' } : {}) };
      await rclone(ctx, name.split('/')[0]!, t, 'copy-tree-to', env, dir);
      ctx.store.backups.targetOutcome(row.name, null);
      ctx.store.setMeta(`tree_copied:${name}:${row.name}`, new Date().toISOString());
      out.push({ target: row.name, ok: true });
    } catch (e) {
      ctx.store.backups.targetOutcome(row.name, (e as Error).message);
      out.push({ target: row.name, ok: false, error: (e as Error).message });
    }
  }
  return out;
}

/** When each target last took the tree `name` whole. */
export function treeCopies(ctx: Ctx, name: string): { target: string; copied_at: string | null }[] {
  return ctx.store.backups.targets().map((r) => ({ target: r.name, copied_at: ctx.store.meta(`tree_copied:${name}:${r.name}`) ?? null }));
}

/** Removes a backup's copies from the targets that hold one (retention, berth backup delete):
 *  each target on its own; the copies a failing one still holds stay recorded, and are said. */
export async function deleteOffsite(ctx: Ctx, b: BackupRow): Promise<{ target: string; error: string }[]> {
  const targets = new Map(ctx.store.backups.targets().map((r) => [r.name, r] as const));
  const kept: { target: string; error: string }[] = [];
  for (const c of ctx.store.backups.copiesOf(b.id)) {
    const row = targets.get(c.target);
    try {
      if (row) await rclone(ctx, b.app, targetOf(ctx, row), 'delete-at', { KEY_AT: c.key });
      ctx.store.backups.uncopy(b.id, c.target);
    } catch (e) {
      ctx.store.backups.targetOutcome(c.target, (e as Error).message);
      kept.push({ target: c.target, error: (e as Error).message });
    }
  }
  return kept;
}

/** Brings a backup's file back from a target that holds a copy, when the local one is gone: into
 *  a .partial first, renamed once whole; a target that fails gives way to the next. */
export async function fetchOffsite(ctx: Ctx, b: BackupRow): Promise<string | null> {
  const targets = new Map(ctx.store.backups.targets().map((r) => [r.name, r] as const));
  const partial = join(backupDir(ctx, b.app), `${b.file}.partial`);
  for (const c of ctx.store.backups.copiesOf(b.id)) {
    const row = targets.get(c.target);
    if (!row) continue;
    try {
      await rclone(ctx, b.app, targetOf(ctx, row), 'copy-from', { FILE: `${b.file}.partial`, KEY_AT: c.key });
      renameSync(partial, join(backupDir(ctx, b.app), b.file));
      return c.target;
    } catch (e) {
      rmSync(partial, { force: true });
      ctx.log.warn({ app: b.app, backup: b.id, target: c.target, err: (e as Error).message }, 'fetching a backup from a target failed');
    }
  }
  return null;
}
