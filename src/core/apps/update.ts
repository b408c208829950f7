// Changes to an app's settings that take effect without a new release. Today: its PostgreSQL
// connection limit, applied to the server at once. A lowered limit refuses new connections over
// it; sessions already open stay (PostgreSQL checks the limit only when a session starts).
import { BerthError } from '../../lib/errors.js';
import type { Ctx } from '../context.js';
import { requirePgGrant, withConnections } from '../shared-services/pg-limits.js';
import { applyPgLimits, storeGrant } from '../shared-services/services.js';

export interface UpdateAppInput { pgConnections?: number | null }

export async function updateApp(ctx: Ctx, name: string, input: UpdateAppInput, actor: string) {
  if (!ctx.store.getApp(name)) throw new BerthError('not_found', `app ${name} not found`, 'list apps with: berth apps list');
  const changed: string[] = [];
  if (input.pgConnections !== undefined) {
    storeGrant(ctx, name, 'postgres', withConnections(requirePgGrant(ctx, name), input.pgConnections));
    await applyPgLimits(ctx);
    changed.push('pg_connections');
  }
  ctx.store.audit({ actor, action: 'apps.update', app: name, result: 'succeeded', detail: { pg_connections: input.pgConnections } });
  return { app: name, changed, pg_connections: input.pgConnections === null ? 'default' : input.pgConnections };
}
