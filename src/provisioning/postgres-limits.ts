// Connection limits per app in PostgreSQL, run by the services worker. Without them one app (a
// leak, a pool set too large, a hostile tenant) can take every slot and lock the others out.
// Each app's two logins (slots a and b) get the app's limit as CONNECTION LIMIT, and so does its
// database, which counts both logins together: in the middle of a rotation, when both work,
// the app still holds no more than its limit. Superusers (berth's admin) are exempt from both,
// and superuser_reserved_connections keeps slots that only they can take.
// Each function takes the admin's open client (postgres.ts connects), so a provisioning sets the
// limits on the connection it already has.
import type pg from 'pg';
import { pgAppSlots, pgConnectionLimit, type PgLimitSpec, type PgServerSlots, sqlIdent } from './model.js';

async function serverSlots(c: pg.Client): Promise<PgServerSlots> {
  const r = await c.query("SELECT current_setting('max_connections')::int AS max, current_setting('superuser_reserved_connections')::int AS reserved");
  return { maxConnections: r.rows[0].max as number, superuserReserved: r.rows[0].reserved as number };
}

/** Sets every app's limit where it differs (a platform's first run after an upgrade sets them all). */
export async function setConnectionLimits(c: pg.Client, specs: PgLimitSpec[]): Promise<{ changed: number }> {
  if (!specs.length) return { changed: 0 };
  const slots = await serverSlots(c);
  const roles = new Map((await c.query('SELECT rolname, rolconnlimit FROM pg_roles WHERE rolname = ANY($1)', [specs.flatMap((s) => s.logins)])).rows
    .map((r: { rolname: string; rolconnlimit: number }) => [r.rolname, r.rolconnlimit]));
  const dbs = new Map((await c.query('SELECT datname, datconnlimit FROM pg_database WHERE datname = ANY($1)', [specs.map((s) => s.db)])).rows
    .map((r: { datname: string; datconnlimit: number }) => [r.datname, r.datconnlimit]));
  let changed = 0;
  for (const s of specs) {
    const limit = pgConnectionLimit(slots, specs.length, s.requested);
    // written into the statement below (DDL takes no parameters): only ever a positive integer
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`connection limit for ${s.app} is not a positive integer: ${limit}`);
    // a role or database not there yet is made by the app's own provisioning, which runs this again
    for (const login of s.logins.filter((l) => roles.has(l) && roles.get(l) !== limit)) {
      await c.query(`ALTER ROLE ${sqlIdent(login)} CONNECTION LIMIT ${limit}`);
      changed++;
    }
    if (dbs.has(s.db) && dbs.get(s.db) !== limit) {
      await c.query(`ALTER DATABASE ${sqlIdent(s.db)} CONNECTION LIMIT ${limit}`);
      changed++;
    }
  }
  return { changed };
}

export interface PgConnectionsStatus {
  /** app_slots: what the default limits share out (max_connections less the superusers' slots and PG_BERTH_SLOTS) */
  max_connections: number; superuser_reserved_connections: number; app_slots: number; limits_total: number;
  apps: { app: string; connections: number; limit: number | null; set: boolean }[];
}

/** Each app's open connections and the limit the server holds for it (null: none yet). */
export async function connectionsStatus(c: pg.Client, specs: PgLimitSpec[]): Promise<PgConnectionsStatus> {
  const slots = await serverSlots(c);
  const open = new Map((await c.query('SELECT usename, count(*)::int AS n FROM pg_stat_activity WHERE usename = ANY($1) GROUP BY usename',
    [specs.flatMap((s) => s.logins)])).rows.map((r: { usename: string; n: number }) => [r.usename, r.n]));
  const dbs = new Map((await c.query('SELECT datname, datconnlimit FROM pg_database WHERE datname = ANY($1)', [specs.map((s) => s.db)])).rows
    .map((r: { datname: string; datconnlimit: number }) => [r.datname, r.datconnlimit]));
  const apps = specs.map((s) => {
    const limit = dbs.get(s.db) ?? -1;
    return { app: s.app, connections: s.logins.reduce((n, l) => n + (open.get(l) ?? 0), 0), limit: limit < 0 ? null : limit, set: s.requested !== null };
  });
  return {
    max_connections: slots.maxConnections, superuser_reserved_connections: slots.superuserReserved,
    app_slots: pgAppSlots(slots), limits_total: apps.reduce((n, x) => n + (x.limit ?? 0), 0), apps,
  };
}
