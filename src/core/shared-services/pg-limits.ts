// Per-app PostgreSQL connection limits, the daemon's side: the operator's setting lives in the
// app's grant (absent: the default), and every provisioning applies every app's limit, since the
// default depends on how many apps have a database. The worker applies them
// (provisioning/postgres-limits.ts); this file only reads and writes berth's state.
import { BerthError } from '../../lib/errors.js';
import { type PgGrant, pgLimitSpec, type PgLimitSpec } from '../../provisioning/model.js';
import type { Ctx } from '../context.js';

const pgGrantOf = (ctx: Ctx, app: string): PgGrant | undefined => {
  const enc = ctx.store.appService(app, 'postgres');
  return enc ? ctx.cipher.decryptJSON<PgGrant>(enc) : undefined;
};

/** Every app with a database, and the limit its operator set (null: the default). */
export const pgLimitSpecs = (ctx: Ctx): PgLimitSpec[] => ctx.store.listApps().flatMap((a) => {
  const g = pgGrantOf(ctx, a.name);
  return g ? [pgLimitSpec(a.name, g)] : [];
});

/** The grant with the operator's limit (null: back to the default). */
export function withConnections(g: PgGrant, n: number | null): PgGrant {
  const { connections: _old, ...rest } = g;
  return n === null ? rest : { ...rest, connections: n };
}

/** What `apps show` says: the limit set for the app, 'default', or null without a database. */
export function pgConnectionsSetting(ctx: Ctx, app: string): number | 'default' | null {
  const g = pgGrantOf(ctx, app);
  return g ? g.connections ?? 'default' : null;
}

export function requirePgGrant(ctx: Ctx, app: string): PgGrant {
  const g = pgGrantOf(ctx, app);
  if (!g) throw new BerthError('invalid', `${app} has no PostgreSQL database, so it has no connection limit`, 'create apps with a database to give them one');
  return g;
}
