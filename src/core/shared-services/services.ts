// The shared services: bring their containers up (or use external ones), give each app its own
// database, Redis user and bucket, and the env vars that point the app at them. Secrets are
// generated here, stored encrypted *before* they are applied, so a crash halfway is finished by
// running the same command again with the same secrets.
import { BerthError } from '../../lib/errors.js';
import { GARAGE_ADMIN_PORT, S3RVER_ACCESS_KEY, SERVICE_PORTS } from '../../state/service-ports.js';
import { type AppGrants, type LegacyRedisGrant, type PgGrant, pgLogin, pgNames, redisCredential, type RedisGrant, redisNames, type ServiceName,
  upgradeRedisGrant } from '../../provisioning/model.js';
import type { WorkerJob, WorkerResult } from '../../provisioning/worker.js';
import type { AppNetwork } from '../../runtime/types.js';
import { SERVICES } from '../../state/settings.js';
import { type Ctx, pauseIfHooked } from '../context.js';
import { bundledStore, firstS3Record, objectStoreWarnings, S3_REGION, s3Grant, s3PublicEndpoint } from './object-storage.js';
import { archiveCipher, archives, baseBackup, ensureStanza, pitrWindow } from '../backups/pitr.js';
import { enabledServices, newSecret, type ServiceRecord, serviceRecord } from './records.js';
import { pgLimitSpecs, withConnections } from './pg-limits.js';
import { dedicatedAdmin } from './dedicated-redis.js';
import { moveWarningsOf } from './move-state.js';

const READY_TIMEOUT_MS = 90_000;
const GARAGE_SETUP_TIMEOUT_MS = 60_000;

async function ensureOne(ctx: Ctx, s: ServiceName, progress: (l: string) => void): Promise<string> {
  const rec = s === 's3' ? await firstS3Record(ctx, progress) : serviceRecord(ctx, s);
  if (s === 's3') for (const w of [...objectStoreWarnings(rec), ...moveWarningsOf(ctx)]) progress(`WARNING: object storage: ${w}`);
  if (rec.mode === 'external') return `external (${rec.host ?? rec.endpoint})`;
  const store = s === 's3' ? bundledStore(rec) : null;
  const minio = store === 'minio' ? { rootUser: rec.accessKey! } : undefined;
  const garage = store === 'garage' ? { rpcSecret: rec.rpcSecret! } : undefined;
  const redis = s === 'redis' ? { maxmemoryMb: ctx.settings.redis_maxmemory_mb, policy: ctx.settings.redis_maxmemory_policy } : undefined;
  const archive = s === 'postgres' ? { cipherPass: archiveCipher(ctx) } : undefined;
  // a Garage recorded without an image (offline, before the image was decided at each start) tries the published one too
  const image = rec.image ?? (garage ? ctx.settings.garage_image : undefined);
  const { result, address } = await ctx.runtime.services.ensure({ service: s, slot: rec.slot, image, adminPassword: rec.password, minio, garage,
    redis, archive, apps: appsUsing(ctx, s) }, progress);
  ctx.serviceAddresses.set(s, address);
  if (garage) {
    const token = await setupGarage(ctx, rec, address);
    if (token) ctx.store.setService('s3', rec.mode, ctx.cipher.encryptJSON({ ...serviceRecord(ctx, 's3'), token }));
  }
  return result;
}

/** A bundled Garage's layout and berth's scoped admin token (made on first start, kept after):
 *  the new token's secret, for the caller to store, or null when the one in `rec` still works. */
export async function setupGarage(ctx: Ctx, rec: ServiceRecord, ip: string): Promise<string | null> {
  const job: WorkerJob = { s3: { store: { kind: 'garage', garage: garageAccess(rec, ip) }, setup: { rootToken: rec.password, token: rec.token ?? null } } };
  const end = Date.now() + GARAGE_SETUP_TIMEOUT_MS;
  for (;;) {
    const r = (await ctx.jobs(job)).s3;
    if (r?.ok) return (r.value as { token: string | null }).token;
    if (Date.now() > end) throw new BerthError('unavailable', `Garage at ${ip} did not take its layout and token: ${r?.error}`, 'see: berth services logs s3');
    await new Promise((res) => setTimeout(res, 500));
  }
}

/** How berth reaches a bundled Garage at this address: its admin API with the scoped token, and S3. */
export const garageAccess = (rec: ServiceRecord, ip: string) =>
  ({ admin: `http://${ip}:${GARAGE_ADMIN_PORT}`, token: rec.token ?? '', s3: `http://${ip}:${SERVICE_PORTS.s3}` });

export function adminJob(ctx: Ctx, s: ServiceName): WorkerJob {
  const rec = serviceRecord(ctx, s);
  if (rec.mode === 'external') return externalAdminJob(s, rec);
  const ip = ctx.serviceAddresses.get(s);
  if (!ip) throw new BerthError('unavailable', `${s} is not running`, 'start it with: berth up');
  const port = SERVICE_PORTS[s];
  if (s === 'postgres') return { postgres: { admin: { host: ip, port, user: 'postgres', password: rec.password } } };
  if (s === 'redis') return { redis: { admin: { host: ip, port, user: 'default', password: rec.password } } };
  const store = bundledStore(rec);
  if (store === 'garage') return { s3: { store: { kind: 'garage', garage: garageAccess(rec, ip) } } };
  const admin = { endpoint: `http://${ip}:${port}`, region: S3_REGION, accessKey: rec.accessKey ?? S3RVER_ACCESS_KEY, secretKey: rec.password };
  return { s3: { store: { kind: store === 'minio' ? 'minio' : 's3', admin } } };
}

export function externalAdminJob(s: ServiceName, rec: ServiceRecord): WorkerJob {
  if (s === 's3') {
    const admin = { endpoint: rec.endpoint!, region: rec.region!, accessKey: rec.accessKey!, secretKey: rec.password };
    return { s3: { store: { kind: rec.users ? 'minio' : 's3', admin } } };
  }
  const admin = { host: rec.host!, port: rec.port!, user: rec.user!, password: rec.password };
  return s === 'postgres' ? { postgres: { admin } } : { redis: { admin } };
}

/** Host and port an app uses to reach a service: the container's name, or the external server. */
function endpointFor(ctx: Ctx, s: ServiceName): string {
  const rec = serviceRecord(ctx, s);
  if (rec.mode === 'external') return `${rec.host}:${rec.port}`;
  const e = ctx.runtime.services.endpoint(s, rec.slot);
  return `${e.host}:${e.port}`;
}

export function failures(r: WorkerResult): string[] {
  return Object.entries(r).filter(([, v]) => !v.ok).map(([k, v]) => `${k}: ${(v as { error: string }).error}`);
}

/** Starts every enabled service, waits until each answers its administrator, then sets every app's
 *  PostgreSQL connection limit (a platform upgraded from a berth without limits gets them here). */
export async function ensureServices(ctx: Ctx, progress: (l: string) => void): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const s of enabledServices(ctx)) out[s] = await ensureOne(ctx, s, progress);
  const job = Object.assign({}, ...enabledServices(ctx).map((s) => adminJob(ctx, s))) as WorkerJob;
  if (job.postgres) job.postgres.status = true;
  const end = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const errs = failures(await ctx.jobs(job));
    if (!errs.length) break;
    if (Date.now() > end) {
      throw new BerthError('unavailable', `shared services did not become ready: ${errs.join('; ')}`,
        'see the containers\' logs: docker logs <instance>-postgres');
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await applyPgLimits(ctx);
  // the archive's trouble is said, and keeps no service from coming up (berth up tries again)
  if (archives(ctx)) await ensureArchive(ctx, out).catch((e: Error) => { out['postgres archive'] = `FAILED: ${e.message} (berth up tries again)`; });
  // apps' Redis users in today's shape and rules (after an upgrade), and their own Redis
  // containers; one app's failure is reported, and does not keep the platform from coming up
  const redisErrs = await reapplyRedisGrants(ctx);
  if (redisErrs.length) out['apps\' Redis users'] = `failed for ${redisErrs.join('; ')} (berth up tries again)`;
  return out;
}

/** The WAL archive's stanza, and its first base backup in the background (until there is one,
 *  nothing can be recovered to a point in time: berth backup pitr says so). */
async function ensureArchive(ctx: Ctx, out: Record<string, string>): Promise<void> {
  if (ctx.archiveBase) return; // a base backup runs: the stanza is there (and its lock would refuse stanza-create)
  const r = await ensureStanza(ctx);
  if (r !== 'ok') out['postgres archive'] = r;
  const w = await pitrWindow(ctx);
  if (w.base_backups.length || ctx.archiveBase) return;
  baseBackup(ctx, { type: 'full', actor: 'berth' }).catch((e: Error) => {
    ctx.log.error({ err: e.message }, 'the first base backup of the WAL archive failed (the daily one tries again)');
  });
}

/** Refreshes where the running service containers are (after a daemon or engine restart). */
export async function locateServices(ctx: Ctx): Promise<void> {
  for (const s of enabledServices(ctx)) {
    const rec = serviceRecord(ctx, s);
    if (rec.mode === 'external') continue;
    const ip = await ctx.runtime.services.address(s, rec.slot);
    if (ip) ctx.serviceAddresses.set(s, ip);
    else ctx.serviceAddresses.delete(s);
  }
}

// ---- per app

export function grantsOf(ctx: Ctx, app: string): AppGrants {
  const out: AppGrants = {};
  for (const s of ctx.store.appServices(app) as ServiceName[]) {
    const enc = ctx.store.appService(app, s);
    if (enc) (out as Record<string, unknown>)[s] = ctx.cipher.decryptJSON(enc);
  }
  // stored before Redis had two users per app: read in today's shape (stored so when next written)
  if (out.redis) out.redis = upgradeRedisGrant(out.redis as RedisGrant | LegacyRedisGrant);
  return out;
}

/** The shared services on an app's network: those it holds a grant in, but the shared Redis for
 *  an app with a Redis of its own. An app without a database cannot reach PostgreSQL's port. */
export function appNetworkFor(ctx: Ctx, app: string): AppNetwork {
  const g = grantsOf(ctx, app);
  return { app, services: SERVICES.filter((s) => g[s] && !(s === 'redis' && g.redis?.dedicated)) };
}

/** The apps whose networks a shared service's container belongs on. */
export const appsUsing = (ctx: Ctx, s: ServiceName): string[] =>
  ctx.store.listApps().map((a) => appNetworkFor(ctx, a.name)).filter((n) => n.services.includes(s)).map((n) => n.app);

function newGrant(app: string, s: 'postgres' | 'redis', opts: ProvisionOptions): PgGrant | RedisGrant {
  if (s === 'postgres') return { ...pgNames(app), logins: { a: newSecret(), b: null }, active: 'a' };
  return { ...redisNames(app), logins: { a: newSecret(), b: null }, active: 'a', ...(opts.dedicatedRedis ? { dedicated: true as const } : {}) };
}

/** terminateClosed: close sessions of retired PostgreSQL logins; dedicatedRedis: a new Redis grant
 *  is on a Redis of the app's own */
export interface ProvisionOptions { terminateClosed?: boolean; dedicatedRedis?: boolean }

/** The worker's Redis admin job for the app's grant: the shared Redis, or the app's own (started). */
export async function redisAdminJob(ctx: Ctx, app: string, g: RedisGrant): Promise<NonNullable<WorkerJob['redis']>> {
  return g.dedicated ? { admin: await dedicatedAdmin(ctx, app, { start: true }) } : adminJob(ctx, 'redis').redis!;
}

export function storeGrant(ctx: Ctx, app: string, s: ServiceName, g: unknown): void {
  ctx.store.setAppService(app, s, ctx.cipher.encryptJSON(g));
}

// One provisioning at a time: PostgreSQL refuses concurrent GRANT/REVOKE on one object
// ("tuple concurrently updated"), and apps are created in parallel by scripts.
export function oneAtATime<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  const run = ctx.provisioning.tail.then(fn, fn);
  ctx.provisioning.tail = run.then(() => undefined, () => undefined); // the queue goes on; the caller gets the failure
  return run;
}

/** terminateClosed: close sessions of revoked logins; pgConnections: the app's connection limit (null: the default) */
export interface ProvisionOptions { terminateClosed?: boolean; pgConnections?: number | null }

/** Applies the app's grants in the services (creating any grant it lacks); idempotent. */
export function provisionApp(ctx: Ctx, app: string, wanted: ServiceName[], opts: ProvisionOptions = {}): Promise<AppGrants> {
  return oneAtATime(ctx, () => provision(ctx, app, wanted, opts));
}

/** Applies every app's PostgreSQL connection limit where the server holds another (berth up: an
 *  upgraded platform gets them; apps update: a changed one). */
export function applyPgLimits(ctx: Ctx): Promise<void> {
  return oneAtATime(ctx, async () => {
    if (!enabledServices(ctx).includes('postgres')) return;
    await locateServices(ctx);
    const errs = failures(await ctx.jobs({ postgres: { ...adminJob(ctx, 'postgres').postgres!, limits: pgLimitSpecs(ctx) } }));
    if (errs.length) {
      throw new BerthError('unavailable', `setting the apps' PostgreSQL connection limits failed: ${errs.join('; ')}`, 'run the same command again');
    }
  });
}

async function provision(ctx: Ctx, app: string, wanted: ServiceName[], opts: ProvisionOptions = {}): Promise<AppGrants> {
  const enabled = enabledServices(ctx);
  const missing = wanted.filter((s) => !enabled.includes(s));
  if (missing.length) {
    throw new BerthError('invalid', `service ${missing.join(', ')} is not enabled on this platform`, 'enable it with: berth up --services postgres,redis,s3');
  }
  ctx.store.setAppServices(app, wanted);
  const grants = grantsOf(ctx, app);
  for (const s of wanted) {
    if (!grants[s]) {
      const g = s === 's3' ? s3Grant(ctx, app) : newGrant(app, s, opts);
      storeGrant(ctx, app, s, g); // stored before it is applied: a re-run applies the same secrets
      (grants as Record<string, unknown>)[s] = g;
    }
  }
  if (grants.postgres && opts.pgConnections !== undefined) {
    grants.postgres = withConnections(grants.postgres, opts.pgConnections);
    storeGrant(ctx, app, 'postgres', grants.postgres);
  }
  if (!wanted.length) return grants;
  await pauseIfHooked(ctx, 'provision'); // crash tests kill the daemon here: secrets stored, not yet applied
  await locateServices(ctx);
  const job: WorkerJob = {};
  if (grants.postgres && wanted.includes('postgres')) {
    job.postgres = { ...adminJob(ctx, 'postgres').postgres!, grant: grants.postgres, terminateClosed: opts.terminateClosed, limits: pgLimitSpecs(ctx) };
  }
  if (grants.redis && wanted.includes('redis')) job.redis = { ...await redisAdminJob(ctx, app, grants.redis), grant: grants.redis };
  if (grants.s3 && wanted.includes('s3')) job.s3 = { ...adminJob(ctx, 's3').s3!, grant: grants.s3 };
  const errs = failures(await ctx.jobs(job));
  if (errs.length) {
    throw new BerthError('unavailable', `provisioning ${app} failed: ${errs.join('; ')}`,
      `run the same command again to finish it (berth apps create ${app} ...)`);
  }
  return grants;
}

/** Applies every app's Redis grant again: after an upgrade of berth, existing apps get today's
 *  ACL rules (the allow-list) and their slot users. Failures are returned, one per app. */
export async function reapplyRedisGrants(ctx: Ctx): Promise<string[]> {
  if (!enabledServices(ctx).includes('redis')) return [];
  const errs: string[] = [];
  for (const a of ctx.store.listApps()) {
    const g = grantsOf(ctx, a.name).redis;
    if (!g || !ctx.store.appServices(a.name).includes('redis')) continue;
    await oneAtATime(ctx, async () => {
      storeGrant(ctx, a.name, 'redis', g); // in today's shape from now on
      await locateServices(ctx);
      const admin = await redisAdminJob(ctx, a.name, g).catch((e: Error) => { errs.push(`${a.name}: ${e.message}`); return null; });
      if (admin) errs.push(...failures(await ctx.jobs({ redis: { ...admin, grant: g } })).map((e) => `${a.name}: ${e}`));
    });
  }
  return errs;
}

/** The env vars that point a release at its services. */
export function serviceEnv(ctx: Ctx, app: string): Record<string, string> {
  const g = grantsOf(ctx, app);
  const env: Record<string, string> = {};
  if (g.postgres) {
    const login = pgLogin(g.postgres, g.postgres.active);
    const pw = g.postgres.logins[g.postgres.active]!;
    env.DATABASE_URL = `postgres://${login}:${pw}@${endpointFor(ctx, 'postgres')}/${g.postgres.db}`;
  }
  if (g.redis) {
    const { user, password } = redisCredential(g.redis);
    const own = g.redis.dedicated ? ctx.runtime.services.dedicatedRedis.endpoint(app) : null;
    env.REDIS_URL = `redis://${user}:${password}@${own ? `${own.host}:${own.port}` : endpointFor(ctx, 'redis')}`;
    env.REDIS_KEY_PREFIX = g.redis.prefix;
  }
  if (g.s3) {
    const ext = serviceRecord(ctx, 's3');
    const publicS3 = s3PublicEndpoint(ctx, ext); // the record read once: this runs on every deploy
    Object.assign(env, {
      S3_ENDPOINT: ext.mode === 'external' ? ext.endpoint! : `http://${endpointFor(ctx, 's3')}`, S3_BUCKET: g.s3.bucket, S3_ACCESS_KEY: g.s3.accessKey,
      S3_SECRET_KEY: g.s3.secretKey, S3_REGION: g.s3.region,
      ...(publicS3 ? { S3_PUBLIC_ENDPOINT: publicS3 } : {}),
      // s3rver stores the chunked uploads that AWS SDKs send by default as they are
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required', AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
    });
  }
  return env;
}
