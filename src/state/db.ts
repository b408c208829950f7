// The daemon's state: one SQLite file (0600), schema migrations by user_version. Node's own
// SQLite binding (node:sqlite): no native addon to compile, so the pinned Node runtime loads it
// whatever node ran `npm ci` (see README, "Runtime").
import { DatabaseSync } from 'node:sqlite';
import { chmodSync } from 'node:fs';

export type DB = DatabaseSync;

export const MIGRATIONS: string[] = [
  `CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE apps(
     name TEXT PRIMARY KEY, created_at TEXT NOT NULL,
     port INTEGER NOT NULL DEFAULT 8000, health_path TEXT NOT NULL DEFAULT '/health',
     live_release INTEGER);
   CREATE TABLE domains(domain TEXT PRIMARY KEY, app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE, position INTEGER NOT NULL);
   CREATE TABLE config(app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(app, key));
   CREATE TABLE releases(
     id INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE,
     seq INTEGER NOT NULL, image TEXT NOT NULL, image_id TEXT, digest TEXT,
     port INTEGER NOT NULL, health_path TEXT NOT NULL,
     processes TEXT NOT NULL DEFAULT '{"web":{}}', env TEXT NOT NULL,
     state TEXT NOT NULL, created_at TEXT NOT NULL, actor TEXT NOT NULL, note TEXT, warm_until TEXT,
     UNIQUE(app, seq));
   CREATE TABLE deploys(
     id INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT NOT NULL, kind TEXT NOT NULL,
     release_id INTEGER, previous_release_id INTEGER, state TEXT NOT NULL, step TEXT,
     actor TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, error TEXT);
   CREATE TABLE deploy_steps(
     id INTEGER PRIMARY KEY AUTOINCREMENT, deploy_id INTEGER NOT NULL REFERENCES deploys(id) ON DELETE CASCADE,
     step TEXT NOT NULL, state TEXT NOT NULL, at TEXT NOT NULL, detail TEXT);
   CREATE TABLE locks(app TEXT PRIMARY KEY, deploy_id INTEGER NOT NULL, actor TEXT NOT NULL, acquired_at TEXT NOT NULL, daemon_boot TEXT NOT NULL);
   CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, app TEXT, result TEXT NOT NULL, detail TEXT);
   CREATE TABLE registry_auth(registry TEXT PRIMARY KEY, auth TEXT NOT NULL);
   CREATE INDEX releases_app ON releases(app, seq);
   CREATE INDEX deploys_app ON deploys(app, id);
   CREATE INDEX audit_app ON audit(app, id);`,
  // Shared services: their admin credentials, and what each app was given (both encrypted).
  `CREATE TABLE services(name TEXT PRIMARY KEY, mode TEXT NOT NULL, secret TEXT NOT NULL);
   CREATE TABLE app_services(app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE, service TEXT NOT NULL, secret TEXT NOT NULL, PRIMARY KEY(app, service));
   ALTER TABLE apps ADD COLUMN services TEXT NOT NULL DEFAULT '[]';`,
  // Resource limits an app set for its processes (JSON, over lib/limits.ts's defaults).
  `ALTER TABLE apps ADD COLUMN limits TEXT NOT NULL DEFAULT '{}';`,
  // How many copies of each process run (`berth scale`), JSON; 1 for a process it leaves out.
  `ALTER TABLE apps ADD COLUMN formation TEXT NOT NULL DEFAULT '{}';`,
  // What a release was deployed with beyond its processes (core/deploy/release-spec.ts): routes,
  // static site, cron, redirects, headers, upstream, volumes; JSON. A rollback brings it back.
  `ALTER TABLE releases ADD COLUMN spec TEXT NOT NULL DEFAULT '{}';`,
  // Cron runs (state/cron-runs.ts): one row per slot of a job, written before its container
  // starts; the UNIQUE slot keeps a restarted daemon from running it twice.
  `CREATE TABLE cron_runs(
     id INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT NOT NULL REFERENCES apps(name) ON DELETE CASCADE, job TEXT NOT NULL,
     release TEXT NOT NULL, trigger TEXT NOT NULL, scheduled_at TEXT NOT NULL, started_at TEXT, finished_at TEXT,
     exit_code INTEGER, state TEXT NOT NULL, duration_ms INTEGER, timeout_ms INTEGER NOT NULL, log_tail TEXT, actor TEXT NOT NULL,
     UNIQUE(app, job, scheduled_at));
   CREATE INDEX cron_runs_job ON cron_runs(app, job, id);
   CREATE INDEX cron_runs_state ON cron_runs(state);`,
  // Backups (state/backups.ts): one row per file written and proven (size, sha256). No foreign
  // key: an app's backups outlive the app, for the day someone wants it back.
  `CREATE TABLE backups(
     id INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT NOT NULL, kind TEXT NOT NULL, file TEXT NOT NULL, size INTEGER NOT NULL,
     sha256 TEXT NOT NULL, recipient TEXT NOT NULL, created_at TEXT NOT NULL, duration_ms INTEGER NOT NULL, trigger TEXT NOT NULL,
     actor TEXT NOT NULL, verified_at TEXT, verify_state TEXT, verify_detail TEXT);
   CREATE INDEX backups_app ON backups(app, id);`,
  // Restores (state/backups.ts): the database an app was moved to, and the one it left (kept
  // until purged: a restore never drops the data it replaces).
  `CREATE TABLE restores(
     id INTEGER PRIMARY KEY AUTOINCREMENT, app TEXT NOT NULL, backup INTEGER NOT NULL, db TEXT NOT NULL, previous_db TEXT NOT NULL,
     at TEXT NOT NULL, actor TEXT NOT NULL, purged_at TEXT);
   CREATE INDEX restores_app ON restores(app, id);`,
  // Backup policies (state/backups.ts): an app without a row has the default (core/backups/plan.ts).
  `CREATE TABLE backup_policies(app TEXT PRIMARY KEY, policy TEXT NOT NULL);`,
  // Off-site targets (config encrypted: it holds the secret key) and the copies each holds.
  `CREATE TABLE backup_targets(
     name TEXT PRIMARY KEY, kind TEXT NOT NULL, config TEXT NOT NULL, created_at TEXT NOT NULL, last_success_at TEXT, last_error TEXT);
   CREATE TABLE backup_copies(backup INTEGER NOT NULL, target TEXT NOT NULL, key TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY(backup, target));`,
  // Incidents the notification channel was told of (core/notify): one row while one lasts.
  `CREATE TABLE incidents(key TEXT PRIMARY KEY, detail TEXT NOT NULL, since TEXT NOT NULL);`,
];

export function openDb(file: string): DB {
  const db = new DatabaseSync(file);
  if (file !== ':memory:') chmodSync(file, 0o600);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
  migrate(db);
  return db;
}

/** Runs fn in one transaction (nested calls join the outer one); rolls back if it throws. */
export function transaction<T>(db: DB, fn: () => T): T {
  if (db.isTransaction) return fn();
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}

function migrate(db: DB): void {
  const current = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
  for (let v = current; v < MIGRATIONS.length; v++) {
    transaction(db, () => {
      db.exec(MIGRATIONS[v]!);
      const bump = `PRAGMA user_version = ${v + 1}`; // a number of ours, not input
      db.exec(bump);
    });
  }
}

export const now = (): string => new Date().toISOString();
