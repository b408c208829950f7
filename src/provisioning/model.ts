// What berth gives each app in the shared services, as data: names derived from the app's
// (validated) name, and the secrets it holds. Pure.

export { SERVICES, type ServiceName } from '../state/settings.js';

/** How berth reaches a service as its administrator. */
export interface AdminEndpoint { host: string; port: number; user: string; password: string; tls?: boolean }

/** PostgreSQL: a group role that owns the database, and two login roles (slots a and b) that
 *  act as the group; rotation gives the idle slot a new password, deploys, then closes the old one. */
export interface PgGrant {
  db: string; group: string; logins: { a: string | null; b: string | null }; active: 'a' | 'b';
  /** connections the app may hold, set by the operator (apps create/update --pg-connections); absent: the default */
  connections?: number;
}
/** Redis: two ACL users (slots a and b, `app-NAME.a` and `app-NAME.b`) limited to the app's key
 *  prefix, as PostgreSQL's two logins: a rotation gives the idle slot a new password, deploys,
 *  then disables the old user and closes its connections. A slot without a password is disabled.
 *  `legacy`: a platform from before the two users had one user `app-NAME` (`user`), which the
 *  running release may still use; it is kept, with the same rules, until the next rotation. */
export interface RedisGrant {
  user: string; prefix: string; logins: { a: string | null; b: string | null }; active: 'a' | 'b';
  legacy?: { passwords: string[] };
  /** the app has a Redis of its own (`apps create --redis dedicated`), not a share of the shared one */
  dedicated?: true;
}
/** A Redis grant as berth stored it before slots (one user, one or two passwords). */
export interface LegacyRedisGrant { user: string; prefix: string; passwords: string[]; active: string }
/** Object storage: a bucket, and the keys the app uses (accessKey/secretKey). Where berth can
 *  create users (MinIO), `keys` lists the app's own users, two during a rotation, and `revoked`
 *  the ones to remove; without `keys` the app uses a shared key and has no user of its own. */
export interface S3Key { accessKey: string; secretKey: string }
export interface S3Grant { bucket: string; accessKey: string; secretKey: string; region: string; keys?: S3Key[]; revoked?: string[] }

export interface AppGrants { postgres?: PgGrant; redis?: RedisGrant; s3?: S3Grant }

const snake = (app: string) => app.replace(/-/g, '_');

export const pgNames = (app: string) => ({ db: `app_${snake(app)}`, group: `app_${snake(app)}` });
export const pgLogin = (g: PgGrant, slot: 'a' | 'b') => `${g.group}_${slot}`;
export const redisNames = (app: string) => ({ user: `app-${app}`, prefix: `${app}:` });
/** A slot's ACL user: `.` cannot occur in an app name, so no app's user is another's slot. */
export const redisLogin = (g: RedisGrant, slot: 'a' | 'b') => `${g.user}.${slot}`;

/** The user and password a release logs in to Redis with: the user from before two slots while
 *  the active password is still its own (the running release uses it), else the active slot's
 *  user; so the first rotation after an upgrade moves the app to a slot user. Pure. */
export function redisCredential(g: RedisGrant): { user: string; password: string } {
  const password = g.logins[g.active]!;
  return { user: g.legacy?.passwords.includes(password) ? g.user : redisLogin(g, g.active), password };
}

/** A stored Redis grant in today's shape: one from before slots becomes slot a with the active
 *  password, its user kept as `legacy` (both passwords, if it was mid-rotation) so the running
 *  release keeps working. Pure. */
export function upgradeRedisGrant(g: RedisGrant | LegacyRedisGrant): RedisGrant {
  if (!('passwords' in g)) return g;
  return { user: g.user, prefix: g.prefix, logins: { a: g.active, b: null }, active: 'a', legacy: { passwords: [...g.passwords] } };
}
export const bucketName = (app: string) => `app-${app}`;
/** A MinIO access key for one of the app's users: `app-NAME-TAIL`. */
export const s3AccessKey = (app: string, tail: string) => `app-${app}-${tail}`;
/** The MinIO canned policy that gives an app's users its bucket and nothing else. */
export const s3PolicyName = (bucket: string) => `berth-${bucket}`;

/** S3 policy document: list the bucket, read/write/delete its objects; nothing else. */
export function bucketPolicy(bucket: string) {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], Resource: [`arn:aws:s3:::${bucket}`] },
      {
        Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        Resource: [`arn:aws:s3:::${bucket}/*`],
      },
    ],
  };
}

/** Quotes an SQL identifier. Names come from validated app names; quoting is still done right. */
export const sqlIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
/** Quotes an SQL string literal (standard_conforming_strings is on in PostgreSQL 15). */
export const sqlLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** What the worker needs to apply (and report) one app's PostgreSQL connection limit. */
export interface PgLimitSpec { app: string; db: string; logins: string[]; requested: number | null }
export const pgLimitSpec = (app: string, g: PgGrant): PgLimitSpec =>
  ({ app, db: g.db, logins: [pgLogin(g, 'a'), pgLogin(g, 'b')], requested: g.connections ?? null });

/** Slots kept free for berth's own admin connections on top of superuser_reserved_connections,
 *  which an external server's admin (RDS's, say) may not be allowed to use. */
export const PG_BERTH_SLOTS = 3;
/** The smallest default: a live release and a warm one (kept for rollback), each with a pool of
 *  5 to 10 connections, as the common frameworks default to. */
export const PG_MIN_DEFAULT_CONNECTIONS = 20;

export interface PgServerSlots { maxConnections: number; superuserReserved: number }
/** Connections apps can use at all: what the server has, less what is kept for berth. */
export const pgAppSlots = (s: PgServerSlots) => Math.max(1, s.maxConnections - s.superuserReserved - PG_BERTH_SLOTS);

/** An app's connection limit: the operator's, or an equal share of the app slots among `apps`,
 *  at least PG_MIN_DEFAULT_CONNECTIONS, and never more than half of them, so that no single app
 *  can lock the others out. Many apps get more than an equal share together (the slots are
 *  overcommitted): a few apps flooding at once can still fill the server; `berth services` shows it. */
export function pgConnectionLimit(s: PgServerSlots, apps: number, requested: number | null): number {
  if (requested !== null) return requested;
  const slots = pgAppSlots(s);
  return Math.max(1, Math.min(Math.floor(slots / 2), Math.max(PG_MIN_DEFAULT_CONNECTIONS, Math.floor(slots / Math.max(1, apps)))));
}
