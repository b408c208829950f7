// PostgreSQL provisioning, run by the services worker (src/provisioning/worker.ts) with the pg
// client. Idempotent: applying the same grant twice changes nothing; applying it after a crash
// halfway finishes the job, with the passwords already stored in berth's state.
import pg from 'pg';
import { type AdminEndpoint, type PgGrant, type PgLimitSpec, pgLogin, sqlIdent, sqlLiteral } from './model.js';
import { connectionsStatus, setConnectionLimits } from './postgres-limits.js';

async function connect(a: AdminEndpoint, database: string): Promise<pg.Client> {
  const c = new pg.Client({ host: a.host, port: a.port, user: a.user, password: a.password, database, connectionTimeoutMillis: 10_000, statement_timeout: 30_000 });
  await c.connect();
  return c;
}

const exists = async (c: pg.Client, sql: string, v: string) => ((await c.query(sql, [v])).rowCount ?? 0) > 0;

/** Applies the grant, then (limits) every app's connection limit, on the same admin connection. */
export async function applyPostgres(a: AdminEndpoint, g: PgGrant, limits?: PgLimitSpec[]): Promise<void> {
  const c = await connect(a, 'postgres');
  try {
    // Nobody but berth's admin connects to the maintenance databases.
    await c.query('REVOKE CONNECT ON DATABASE postgres FROM PUBLIC');
    await c.query('REVOKE CONNECT ON DATABASE template1 FROM PUBLIC');
    if (!(await exists(c, 'SELECT 1 FROM pg_roles WHERE rolname = $1', g.group))) await c.query(`CREATE ROLE ${sqlIdent(g.group)} NOLOGIN`);
    for (const slot of ['a', 'b'] as const) {
      const login = pgLogin(g, slot);
      const pw = g.logins[slot];
      if (!(await exists(c, 'SELECT 1 FROM pg_roles WHERE rolname = $1', login))) await c.query(`CREATE ROLE ${sqlIdent(login)} NOLOGIN`);
      await c.query(pw === null
        ? `ALTER ROLE ${sqlIdent(login)} WITH NOLOGIN PASSWORD NULL`
        : `ALTER ROLE ${sqlIdent(login)} WITH LOGIN PASSWORD ${sqlLiteral(pw)}`);
      await c.query(`GRANT ${sqlIdent(g.group)} TO ${sqlIdent(login)}`);
      // Whatever the login creates belongs to the group, so rotating logins never strands objects.
      await c.query(`ALTER ROLE ${sqlIdent(login)} SET role = ${sqlLiteral(g.group)}`);
    }
    if (!(await exists(c, 'SELECT 1 FROM pg_database WHERE datname = $1', g.db))) await c.query(`CREATE DATABASE ${sqlIdent(g.db)} OWNER ${sqlIdent(g.group)}`);
    await c.query(`ALTER DATABASE ${sqlIdent(g.db)} OWNER TO ${sqlIdent(g.group)}`);
    await c.query(`REVOKE ALL ON DATABASE ${sqlIdent(g.db)} FROM PUBLIC`);
    await c.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${sqlIdent(g.db)} TO ${sqlIdent(g.group)}`);
    if (limits) await setConnectionLimits(c, limits);
  } finally {
    await c.end();
  }
  const d = await connect(a, g.db);
  try {
    // PostgreSQL 15 no longer lets PUBLIC create in public; the app's group owns the schema.
    await d.query(`ALTER SCHEMA public OWNER TO ${sqlIdent(g.group)}`);
    await d.query('REVOKE ALL ON SCHEMA public FROM PUBLIC');
  } finally {
    await d.end();
  }
}

/** Sets every app's connection limit where the server holds another (berth up, apps update). */
export async function applyConnectionLimits(a: AdminEndpoint, limits: PgLimitSpec[]): Promise<{ changed: number }> {
  const c = await connect(a, 'postgres');
  try {
    return await setConnectionLimits(c, limits);
  } finally {
    await c.end();
  }
}

/** Closes the app's sessions opened with a login that no longer has a password. */
export async function terminateClosedLogins(a: AdminEndpoint, g: PgGrant): Promise<number> {
  const closed = (['a', 'b'] as const).filter((s) => g.logins[s] === null).map((s) => pgLogin(g, s));
  if (!closed.length) return 0;
  const c = await connect(a, 'postgres');
  try {
    const r = await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ANY($1)', [closed]);
    return r.rowCount ?? 0;
  } finally {
    await c.end();
  }
}

/** Version, connections, databases' sizes; with the apps' specs, each app's connections and limit. */
export async function postgresStatus(a: AdminEndpoint, apps?: PgLimitSpec[]) {
  const c = await connect(a, 'postgres');
  try {
    const version = (await c.query('SHOW server_version')).rows[0].server_version as string;
    const connections = Number((await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = $1', ['client backend'])).rows[0].n);
    const databases = (await c.query("SELECT datname AS name, pg_database_size(datname)::bigint AS bytes FROM pg_database WHERE datname LIKE 'app\\_%' ORDER BY 1")).rows
      .map((r: { name: string; bytes: string }) => ({ name: r.name, bytes: Number(r.bytes) }));
    return { version, connections, databases, ...(apps ? await connectionsStatus(c, apps) : {}) };
  } finally {
    await c.end();
  }
}

/** Drops the app's database and roles (after berth has taken a final dump). */
export async function dropPostgres(a: AdminEndpoint, g: PgGrant): Promise<void> {
  const c = await connect(a, 'postgres');
  try {
    await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [g.db]);
    await c.query(`DROP DATABASE IF EXISTS ${sqlIdent(g.db)}`);
    for (const role of [pgLogin(g, 'a'), pgLogin(g, 'b'), g.group]) await c.query(`DROP ROLE IF EXISTS ${sqlIdent(role)}`);
  } finally {
    await c.end();
  }
}
