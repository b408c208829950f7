// `berth backup restore NAME [ID]`: a restore that never destroys. The backup goes into a new
// database of the app (same role, same rights), is checked there as a verification checks a
// scratch copy, and only then does the app move onto it, by a normal zero-downtime release whose
// DATABASE_URL names it. The database it replaces is kept and listed (`berth backup restored`)
// until purged. Any failure before the release serves drops the new database and leaves the app
// exactly as it was.
import { BerthError } from '../../lib/errors.js';
import type { PgGrant } from '../../provisioning/model.js';
import type { RestoreRow } from '../../state/backups.js';
import type { Ctx } from '../context.js';
import { deploy } from '../deploy/engine.js';
import type { Emit } from '../deploy/execute.js';
import { adminJob, failures, grantsOf, locateServices, storeGrant } from '../shared-services/services.js';
import { alone, backupDir, backupOf, checkFile, pgAccess, runRestoreTask } from './backups.js';
import { restoredDbName, unfinishedMove } from './plan.js';

const RESTORE_LOCK_WAIT_MS = 10 * 60_000;

export interface RestoreResult { app: string; backup: number; db: string; previous_db: string; release: string | null; detail: string }

export async function restoreBackup(ctx: Ctx, app: string, o: { id?: number; dryRun?: boolean; actor: string }, emit: Emit)
  : Promise<RestoreResult | { plan: string[] }> {
  const b = backupOf(ctx, app, o.id);
  const g = grantsOf(ctx, app).postgres;
  if (!g) throw new BerthError('conflict', `${app} has no database to restore into`, 'apps created with --no-db have none');
  const db = restoredDbName(g.db, new Date());
  const live = ctx.store.getApp(app)?.live_release;
  const plan = [
    `check backup #${b.id}'s file against its recorded size and sha256`,
    `create database ${db}, owned by ${app}'s role like ${g.db}`,
    `restore backup #${b.id} into it, then pg_amcheck and the row counts; any failure drops it and changes nothing`,
    live ? `roll out a new release of ${app} with DATABASE_URL on ${db} (zero downtime)` : `point ${app}'s DATABASE_URL at ${db} (it has no release yet)`,
    `keep ${g.db} as it is, listed by: berth backup restored ${app}`,
  ];
  if (o.dryRun) return { plan };
  return alone(ctx, app, 'restore', async () => {
    const bad = await checkFile(ctx, b);
    if (bad) {
      throw new BerthError('conflict', `backup #${b.id} of ${app} is ${bad.state}: ${bad.detail}`,
        `nothing was changed; pick another: berth backup list ${app}`);
    }
    await locateServices(ctx);
    emit({ type: 'progress', line: `creating database ${db}` });
    const errs = failures(await ctx.jobs({ postgres: { ...adminJob(ctx, 'postgres').postgres!, grant: { ...g, db } } }));
    if (errs.length) throw new BerthError('unavailable', `creating ${db} failed: ${errs.join('; ')}`, 'nothing was changed');
    let moved = false;
    try {
      emit({ type: 'progress', line: `restoring backup #${b.id} into ${db} and checking it` });
      const v = await runRestoreTask(ctx, app, b, { cmd: 'restore', env: { TARGET: db, ROLE: g.group } });
      if (v.state !== 'ok') throw new BerthError('command_failed', `the restored copy did not check out (${v.state}): ${v.detail}`, 'nothing was changed');
      // the grant moves once the release holds the app's lock, and back there if it fails: a deploy
      // waiting behind it (or going on now) rolls out on the database before, never half on this one
      // (read again in the lock: a rotation may have changed the logins meanwhile; only db moves)
      const withDb = (to: string) => storeGrant(ctx, app, 'postgres', { ...grantsOf(ctx, app).postgres!, db: to } satisfies PgGrant);
      const move = {
        apply: () => { withDb(db); moved = true; },
        undo: () => { if (!liveUses(ctx, app, db)) { withDb(g.db); moved = false; } },
      };
      if (!live) move.apply();
      const release = live ? (await deploy(ctx, { app, kind: 'config', actor: o.actor, note: `restored backup #${b.id} into ${db}`,
        lockTimeoutMs: RESTORE_LOCK_WAIT_MS, inLock: move }, emit)).release : null;
      const row = ctx.store.backups.restored({ app, backup: b.id, db, previous_db: g.db, actor: o.actor });
      ctx.store.audit({ actor: o.actor, action: 'backup.restore', app, result: 'succeeded', detail: { backup: b.id, db, previous_db: g.db, release } });
      return { app, backup: b.id, db, previous_db: row.previous_db, release, detail: v.detail };
    } catch (e) {
      // a release that failed after its switch serves on the new database: it keeps it
      if (moved && liveUses(ctx, app, db)) throw e;
      if (moved) storeGrant(ctx, app, 'postgres', { ...grantsOf(ctx, app).postgres!, db: g.db }); // the release before serves on, on the database before
      await dropDatabase(ctx, app, db);
      ctx.store.audit({ actor: o.actor, action: 'backup.restore', app, result: 'failed', detail: { backup: b.id, error: (e as Error).message } });
      throw e;
    }
  });
}

/** The database the app's live release reads, by its DATABASE_URL. */
function liveDbOf(ctx: Ctx, app: string): string | null {
  const id = ctx.store.getApp(app)?.live_release;
  const live = id ? ctx.store.getRelease(id) : undefined;
  const url = live ? ctx.cipher.decryptJSON<Record<string, string>>(live.env).DATABASE_URL : undefined;
  return url ? new URL(url).pathname.slice(1) : null;
}
const liveUses = (ctx: Ctx, app: string, db: string) => liveDbOf(ctx, app) === db;

/** At daemon start, after the deploys are settled: a restore cut short by the daemon's death
 *  between its grant's move and its record gives the app its database back (the live release's;
 *  the copy the restore made stays, unrecorded, and its command said it failed). */
export function settleRestoreMoves(ctx: Ctx): string[] {
  const out: string[] = [];
  for (const a of ctx.store.listApps()) {
    const g = grantsOf(ctx, a.name).postgres;
    const back = g ? unfinishedMove(g.db, liveDbOf(ctx, a.name), ctx.store.backups.restoresOf(a.name).map((r) => r.db)) : null;
    if (!g || !back) continue;
    storeGrant(ctx, a.name, 'postgres', { ...g, db: back });
    ctx.store.audit({ actor: 'berth', action: 'backup.restore', app: a.name, result: 'undone', detail: { db: g.db, back } });
    out.push(`${a.name}: back on ${back} (the restore into ${g.db} was cut short)`);
  }
  return out;
}

export function restoresOf(ctx: Ctx, app: string): (RestoreRow & { current: boolean })[] {
  const db = grantsOf(ctx, app).postgres?.db;
  return ctx.store.backups.restoresOf(app).map((r) => ({ ...r, current: r.previous_db === db }));
}

/** Drops the database a restore replaced (asked for by the operator, confirmed by the CLI). */
export async function purgeRestored(ctx: Ctx, app: string, o: { id: number; actor: string }): Promise<RestoreRow> {
  const r = ctx.store.backups.restoresOf(app).find((x) => x.id === o.id);
  if (!r) throw new BerthError('not_found', `${app} has no restore #${o.id}`, `list them: berth backup restored ${app}`);
  if (r.purged_at) return r;
  if (r.previous_db === grantsOf(ctx, app).postgres?.db) {
    throw new BerthError('conflict', `${r.previous_db} is ${app}'s database again (a later restore or rollback moved it back)`, 'nothing was dropped');
  }
  await dropDatabase(ctx, app, r.previous_db);
  ctx.store.backups.purged(r.id);
  ctx.store.audit({ actor: o.actor, action: 'backup.purge', app, result: 'dropped', detail: { restore: r.id, db: r.previous_db } });
  return { ...r, purged_at: new Date().toISOString() };
}

/** The databases restores replaced and nobody purged yet: an app purged goes with all of them. */
export async function dropReplacedDatabases(ctx: Ctx, app: string): Promise<void> {
  const current = grantsOf(ctx, app).postgres?.db;
  for (const r of ctx.store.backups.restoresOf(app).filter((x) => !x.purged_at && x.previous_db !== current)) {
    await dropDatabase(ctx, app, r.previous_db);
    ctx.store.backups.purged(r.id);
  }
}

async function dropDatabase(ctx: Ctx, app: string, db: string): Promise<void> {
  const pg = await pgAccess(ctx);
  const r = await ctx.runtime.services.task('pg-tools', { name: `${app}-dropdb`, cmd: ['dropdb'], env: { ...pg.env, DB: db }, secretFiles: pg.secretFiles,
    outputDir: backupDir(ctx, app) }, { timeoutMs: 120_000 });
  if (r.exitCode !== 0) throw new BerthError('command_failed', `dropping ${db} failed: ${r.output.trim().slice(-300)}`);
}
