// Credential rotation as pure transitions of an app's grants. A grant holding two credentials
// (two PostgreSQL logins, two Redis users, two MinIO users) is in the middle of a rotation:
// `active` is the new one. The state alone says what is half done, so a daemon that died in the
// middle can finish it (commit) or take it back (undo) after a restart.
import type { AppGrants, PgGrant, RedisGrant, S3Grant, S3Key, ServiceName } from './model.js';
import { pgLogin, redisLogin } from './model.js';

export type Rotatable = 'postgres' | 'redis' | 's3';

/** Adds the new credential beside the current one and makes it the active one. */
export function begin(g: AppGrants, s: Rotatable, fresh: { secret: string; s3Key: S3Key }): AppGrants {
  if (s === 'postgres' && g.postgres) {
    const next = g.postgres.active === 'a' ? 'b' : 'a';
    return { ...g, postgres: { ...g.postgres, logins: { ...g.postgres.logins, [next]: fresh.secret }, active: next } };
  }
  if (s === 'redis' && g.redis) {
    const next = g.redis.active === 'a' ? 'b' : 'a';
    return { ...g, redis: { ...g.redis, logins: { ...g.redis.logins, [next]: fresh.secret }, active: next } };
  }
  if (s === 's3' && g.s3?.keys) return { ...g, s3: { ...g.s3, ...fresh.s3Key, keys: [...g.s3.keys, fresh.s3Key] } };
  return g;
}

/** The services whose grant holds an old credential beside the active one. */
export function inProgress(g: AppGrants): Rotatable[] {
  const out: Rotatable[] = [];
  if (g.postgres && g.postgres.logins.a && g.postgres.logins.b) out.push('postgres');
  if (g.redis && g.redis.logins.a && g.redis.logins.b) out.push('redis');
  if (g.s3?.keys && g.s3.keys.length > 1) out.push('s3');
  return out;
}

/** Keeps only the active credential; the others are revoked when the grants are applied. */
export function commit(g: AppGrants, s: Rotatable): AppGrants {
  if (s === 'postgres' && g.postgres) {
    const old = g.postgres.active === 'a' ? 'b' : 'a';
    return { ...g, postgres: { ...g.postgres, logins: { ...g.postgres.logins, [old]: null } } };
  }
  if (s === 'redis' && g.redis) {
    // the user from before two slots is retired with the old slot: the new release uses neither
    const { legacy: _retired, ...rd } = g.redis;
    const old = rd.active === 'a' ? 'b' : 'a';
    return { ...g, redis: { ...rd, logins: { ...rd.logins, [old]: null } } };
  }
  if (s === 's3' && g.s3?.keys) {
    const active = g.s3.accessKey;
    return { ...g, s3: { ...g.s3, keys: g.s3.keys.filter((k) => k.accessKey === active), revoked: g.s3.keys.filter((k) => k.accessKey !== active).map((k) => k.accessKey) } };
  }
  return g;
}

/** Goes back to the credential from before the rotation; the new one is revoked. */
export function undo(g: AppGrants, s: Rotatable): AppGrants {
  if (s === 'postgres' && g.postgres) {
    const pg: PgGrant = g.postgres;
    const old = pg.active === 'a' ? 'b' : 'a';
    return { ...g, postgres: { ...pg, logins: { ...pg.logins, [pg.active]: null }, active: old } };
  }
  if (s === 'redis' && g.redis) {
    const rd: RedisGrant = g.redis;
    const old = rd.active === 'a' ? 'b' : 'a';
    return { ...g, redis: { ...rd, logins: { ...rd.logins, [rd.active]: null }, active: old } };
  }
  if (s === 's3' && g.s3?.keys) {
    const s3: S3Grant = g.s3;
    const keys = g.s3.keys;
    const old = keys.find((k) => k.accessKey !== s3.accessKey) ?? keys[0]!;
    return { ...g, s3: { ...s3, ...old, keys: [old], revoked: [s3.accessKey] } };
  }
  return g;
}

/** Whether a release's env holds the service's active credential (it was made after `begin`). */
export function envUsesActive(env: Record<string, string>, g: AppGrants, s: ServiceName): boolean {
  if (s === 'postgres' && g.postgres) return (env.DATABASE_URL ?? '').includes(`//${pgLogin(g.postgres, g.postgres.active)}:${g.postgres.logins[g.postgres.active]}@`);
  if (s === 'redis' && g.redis) return (env.REDIS_URL ?? '').includes(`//${redisLogin(g.redis, g.redis.active)}:${g.redis.logins[g.redis.active]}@`);
  if (s === 's3' && g.s3) return env.S3_ACCESS_KEY === g.s3.accessKey;
  return false;
}
