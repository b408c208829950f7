// The platform's own backup (`berth backup platform`, daily by schedule): first a fresh logical
// backup of every app's database, then one encrypted tar (age, to the backup key) of what
// berth needs to come back on another machine: a consistent online copy of the state database
// (it records every app, release, grant and backup), the master key that opens its secrets, the
// settings, Caddy's certificates and ACME account, static sites' files, and of each app what its
// policy says: its volumes (by default) and its bucket's objects (when asked). It is recorded like
// an app's backup under the name PLATFORM, so it is copied to every target, listed and pruned
// the same way. `berth restore-host` (bootstrap/restore-host.ts) reads it back; restoreData
// then brings every app's database back from its latest backup.
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { copyTree } from '../../exec/copy-tree.js';
import { asBerthError, BerthError } from '../../lib/errors.js';
import type { BackupRow } from '../../state/backups.js';
import type { Ctx } from '../context.js';
import type { Emit } from '../deploy/execute.js';
import { processTable } from '../deploy/processes.js';
import { grantsOf, provisionApp } from '../shared-services/services.js';
import type { ServiceName } from '../../state/settings.js';
import type { Paths } from '../../state/paths.js';
import { alone, backupDir, checkFile, createBackup, currentBackups, policyOf, recordBackupFile, runRestoreTask } from './backups.js';
import { restoreBucket, stageBucket } from './buckets.js';
import { mustBackupKey } from './key.js';
import { copyOffsite } from './offsite.js';
import { backupFileName } from './plan.js';

/** Written by restore-host while it runs (restoreData refuses without it). */
export const restoreHostMarker = (p: Paths) => join(p.runDir, 'restore-host');

/** The name platform backups are recorded and stored under (no app can have it: names start with a letter). */
export const PLATFORM = '_platform';
const PACK_TIMEOUT_MS = 3600_000;

export interface PlatformBackup { backup: BackupRow; apps: { app: string; backup: number | null; error?: string }[] }

/** `fresh`: back up every app's database first (the scheduled one relies on the apps' own
 *  schedules); `images`: put every app's live release image in too (a new machine can then run
 *  them without a registry; each can be hundreds of MB). */
export async function createPlatformBackup(ctx: Ctx, o: { actor: string; fresh: boolean; images?: boolean }, emit: Emit): Promise<PlatformBackup> {
  const key = mustBackupKey(ctx.paths);
  const apps: PlatformBackup['apps'] = [];
  for (const a of ctx.store.listApps().filter((x) => grantsOf(ctx, x.name).postgres)) {
    if (!o.fresh) { apps.push({ app: a.name, backup: currentBackups(ctx, a.name)[0]?.id ?? null }); continue; }
    emit({ type: 'progress', line: `backing up ${a.name}'s database` });
    try {
      apps.push({ app: a.name, backup: (await createBackup(ctx, a.name, { actor: o.actor, trigger: 'manual' })).id });
    } catch (e) {
      // its latest earlier backup is what a restore-host brings back; said here and in the audit
      apps.push({ app: a.name, backup: currentBackups(ctx, a.name)[0]?.id ?? null, error: asBerthError(e).message });
      emit({ type: 'progress', line: `WARNING: ${a.name}: ${asBerthError(e).message}` });
    }
  }
  return alone(ctx, PLATFORM, 'back up the platform', async () => {
    const dir = backupDir(ctx, PLATFORM);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const staged = `.staged-${randomBytes(4).toString('hex')}`;
    const file = backupFileName(new Date(), randomBytes(3).toString('hex')).replace('.dump.age', '.tar.age');
    try {
      emit({ type: 'progress', line: 'copying the state database (online), keys, settings and Caddy\'s certificates' });
      await stage(ctx, join(dir, staged), apps, emit);
      if (o.images) await stageImages(ctx, join(dir, staged, 'images'), emit);
      const t0 = Date.now();
      const r = await ctx.runtime.services.task('pg-tools', { name: 'platform-backup', cmd: ['pack'],
        env: { STAGED: staged, RECIPIENT: key.recipient, FILE: `${file}.partial` }, outputDir: dir }, { timeoutMs: PACK_TIMEOUT_MS });
      if (r.exitCode !== 0) throw new BerthError('command_failed', `packing the platform backup failed: ${r.output.trim().slice(-400)}`);
      const row = await recordBackupFile(ctx, PLATFORM, file, { kind: 'logical', recipient: key.recipient, t0, trigger: 'manual', actor: o.actor });
      ctx.store.audit({ actor: o.actor, action: 'backup.platform', app: null, result: 'succeeded', detail: { id: row.id, file, apps } });
      await copyOffsite(ctx, row);
      return { backup: row, apps };
    } catch (e) {
      ctx.store.audit({ actor: o.actor, action: 'backup.platform', app: null, result: 'failed', detail: { error: asBerthError(e).message } });
      throw e;
    } finally {
      rmSync(join(dir, staged), { recursive: true, force: true });
      rmSync(join(dir, `${file}.partial`), { force: true });
    }
  });
}

/** Each app's live release image, by the reference the release names (its tag comes along), and
 *  its processes' own images (a compose file's frontend, by reference or id). */
async function stageImages(ctx: Ctx, to: string, emit: Emit): Promise<void> {
  mkdirSync(to, { recursive: true, mode: 0o700 });
  const refs = new Set<string>();
  for (const a of ctx.store.listApps()) {
    const live = a.live_release ? ctx.store.getRelease(a.live_release) : undefined;
    if (live) for (const ref of [live.image, ...Object.values(processTable(live)).map((e) => e.image)]) if (ref) refs.add(ref);
  }
  for (const [i, ref] of [...refs].entries()) {
    emit({ type: 'progress', line: `saving image ${ref}` });
    await ctx.runtime.saveImage(ref, join(to, `${i}.tar`));
  }
}

/** At daemon start: what a task cut short by the daemon's death left, some of it in clear (a
 *  platform backup's staged state and master key; a restore to an instant's scratch cluster). */
export async function sweepLeftovers(ctx: Ctx): Promise<string[]> {
  const gone = await ctx.runtime.services.archive.sweep();
  const dir = backupDir(ctx, PLATFORM);
  for (const f of existsSync(dir) ? readdirSync(dir).filter((x) => /^\.(staged|unpacked)-|\.partial$/.test(x)) : []) {
    rmSync(join(dir, f), { recursive: true, force: true });
    gone.push(join(dir, f));
  }
  return gone;
}

/** What goes into the tar: the state copy, the master key, the settings, Caddy's data, static
 *  files, and each app's volumes and bucket as its policy says. */
async function stage(ctx: Ctx, to: string, apps: PlatformBackup['apps'], emit: Emit): Promise<void> {
  const p = ctx.paths;
  mkdirSync(join(to, 'state'), { recursive: true, mode: 0o700 });
  ctx.store.copyTo(join(to, 'state', 'berth.db'));
  cpSync(p.keyFile, join(to, 'state', 'master.key'));
  for (const f of ['backup.key.pub']) if (existsSync(join(p.stateDir, f))) cpSync(join(p.stateDir, f), join(to, 'state', f));
  cpSync(p.settings, join(to, 'berth.json'));
  if (existsSync(p.caddyDataDir)) await copyTree(p.caddyDataDir, join(to, 'caddy', 'data'));
  if (existsSync(p.staticDir)) await copyTree(p.staticDir, join(to, 'static'));
  // apps' volumes (berth.yml volumes:), copied as they are while the apps run: not a snapshot
  const names = ctx.store.listApps().map((a) => a.name);
  const volumes = names.filter((a) => policyOf(ctx, a).platform_volumes && existsSync(join(p.volumesDir, a)));
  for (const a of volumes) await copyTree(join(p.volumesDir, a), join(to, 'volumes', a));
  const buckets: string[] = [];
  for (const a of names.filter((x) => policyOf(ctx, x).platform_bucket)) {
    emit({ type: 'progress', line: `copying ${a}'s bucket` });
    try {
      if (await stageBucket(ctx, a, join(to, '..'), join(basename(to), 'buckets', a))) buckets.push(a);
    } catch (e) {
      // the state and keys matter more than one bucket: said, recorded, and the backup goes on
      emit({ type: 'progress', line: `WARNING: ${a}'s bucket is not in this backup: ${asBerthError(e).message}` });
      apps.push({ app: a, backup: null, error: `bucket: ${asBerthError(e).message}` });
    }
  }
  writeFileSync(join(to, 'manifest.json'), JSON.stringify({ format: 1, created_at: new Date().toISOString(), apps, volumes, buckets }, null, 2));
}

/** After restore-host: every app's grants applied again in the fresh services (the stored
 *  secrets), and its database filled from its latest backup (fetched from a target when not here),
 *  unless PostgreSQL came back whole from the WAL archive (fromArchive). */
export async function restoreData(ctx: Ctx, o: { actor: string; fromArchive: boolean }, emit: Emit)
  : Promise<{ app: string; backup: number | null; result: string }[]> {
  // it restores into the apps' databases as they are: only on the fresh services restore-host made
  if (!existsSync(restoreHostMarker(ctx.paths))) {
    throw new BerthError('conflict', 'restoring every app\'s data is a step of berth restore-host only', 'restore one app: berth backup restore NAME [ID]');
  }
  const out: { app: string; backup: number | null; result: string }[] = [];
  for (const a of ctx.store.listApps()) {
    emit({ type: 'progress', line: `${a.name}: its databases, users and keys` });
    try {
      out.push(await restoreAppData(ctx, a.name, o.fromArchive, emit));
    } catch (e) {
      // one app's failure is said; the others go on
      out.push({ app: a.name, backup: null, result: `FAILED: ${asBerthError(e).message} (berth backup restore ${a.name} ID once fixed)` });
    }
  }
  ctx.store.audit({ actor: o.actor, action: 'backup.restore-host', app: null, result: 'done', detail: out });
  return out;
}

async function restoreAppData(ctx: Ctx, app: string, fromArchive: boolean, emit: Emit): Promise<{ app: string; backup: number | null; result: string }> {
  const grants = await provisionApp(ctx, app, ctx.store.appServices(app) as ServiceName[]);
  const r = await restoreDatabase(ctx, app, grants, fromArchive, emit);
  const bucket = await restoreBucket(ctx, app, backupDir(ctx, PLATFORM)).catch((e: unknown) => `bucket FAILED: ${asBerthError(e).message}`);
  return bucket ? { ...r, result: `${r.result}; ${bucket}` } : r;
}

async function restoreDatabase(ctx: Ctx, app: string, grants: Awaited<ReturnType<typeof provisionApp>>, fromArchive: boolean, emit: Emit)
  : Promise<{ app: string; backup: number | null; result: string }> {
  if (fromArchive && grants.postgres) return { app, backup: null, result: 'restored from the WAL archive' };
  const b = grants.postgres ? currentBackups(ctx, app)[0] : undefined;
  if (!grants.postgres || !b) return { app, backup: null, result: grants.postgres ? 'no backup to restore' : 'no database' };
  emit({ type: 'progress', line: `${app}: restoring backup #${b.id} into ${grants.postgres.db}` });
  const bad = await checkFile(ctx, b);
  const env = { TARGET: grants.postgres.db, ROLE: grants.postgres.group };
  const v = bad ?? await alone(ctx, app, 'restore', () => runRestoreTask(ctx, app, b, { cmd: 'restore', env }));
  return { app, backup: b.id, result: v.state === 'ok' ? `restored: ${v.detail}` : `FAILED (${v.state}): ${v.detail}` };
}
