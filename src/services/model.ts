// What berth gives each app in the shared services, as data: names derived from the app's
// (validated) name, and the secrets it holds. Pure.

export type ServiceName = 'postgres' | 'redis' | 's3';
export const SERVICES: ServiceName[] = ['postgres', 'redis', 's3'];

/** How berth reaches a service as its administrator. */
export interface AdminEndpoint { host: string; port: number; user: string; password: string; tls?: boolean }

/** PostgreSQL: a group role that owns the database, and two login roles (slots a and b) that
 *  act as the group; rotation gives the idle slot a new password, deploys, then closes the old one. */
export interface PgGrant { db: string; group: string; logins: { a: string | null; b: string | null }; active: 'a' | 'b' }
/** Redis: one ACL user limited to its key prefix; during a rotation it accepts two passwords. */
export interface RedisGrant { user: string; prefix: string; passwords: string[]; active: string }
/** Object storage: a bucket, and the keys the app uses. */
export interface S3Grant { bucket: string; accessKey: string; secretKey: string; region: string }

export interface AppGrants { postgres?: PgGrant; redis?: RedisGrant; s3?: S3Grant }

const snake = (app: string) => app.replace(/-/g, '_');

export const pgNames = (app: string) => ({ db: `app_${snake(app)}`, group: `app_${snake(app)}` });
export const pgLogin = (g: PgGrant, slot: 'a' | 'b') => `${g.group}_${slot}`;
export const redisNames = (app: string) => ({ user: `app-${app}`, prefix: `${app}:` });
export const bucketName = (app: string) => `app-${app}`;

/** Quotes an SQL identifier. Names come from validated app names; quoting is still done right. */
export const sqlIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
/** Quotes an SQL string literal (standard_conforming_strings is on in PostgreSQL 15). */
export const sqlLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;
