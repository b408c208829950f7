// What `berth services` and `berth db url` show.
import { pgLogin, redisCredential } from '../../provisioning/model.js';
import type { WorkerJob } from '../../provisioning/worker.js';
import { run } from '../../exec/run.js';
import type { Ctx } from '../context.js';
import { adminJob, grantsOf, locateServices, serviceEnv } from './services.js';
import { enabledServices, serviceRecord } from './records.js';
import { bundledStore, objectStoreWarnings, s3PublicEndpoint } from './object-storage.js';
import { pgLimitSpecs } from './pg-limits.js';
import { moveWarningsOf } from './move-state.js';
import { dedicatedAdmin } from './dedicated-redis.js';

async function du(dir: string): Promise<number | null> {
  return run(['du', '-sb', dir]).then((r) => Number(r.stdout.split('\t')[0]), () => null);
}

export async function servicesStatus(ctx: Ctx) {
  await locateServices(ctx);
  const out = [];
  for (const s of enabledServices(ctx)) {
    const rec = serviceRecord(ctx, s);
    // object storage: whether apps are kept apart (a Garage key or MinIO user each) or share one key
    const isolation = s !== 's3' ? {} : {
      store: rec.mode === 'external' ? (rec.users ? 'minio' : 's3') : bundledStore(rec),
      isolation: !rec.users ? 'NONE: shared key' : rec.mode === 'container' && bundledStore(rec) === 'garage' ? 'key per app' : 'user per app',
      public_endpoint: s3PublicEndpoint(ctx), warnings: [...objectStoreWarnings(rec), ...moveWarningsOf(ctx)],
    };
    if (rec.mode === 'external') {
      const job = adminJob(ctx, s);
      if (job.postgres) Object.assign(job.postgres, { status: true, apps: pgLimitSpecs(ctx) });
      if (job.redis) job.redis.status = true;
      const r = (await ctx.jobs(job))[s];
      out.push({ service: s, container: null, state: r?.ok ? 'external' : 'external, unreachable', image: null, host: rec.host ?? rec.endpoint,
        data_bytes: null, ...isolation, ...(r?.ok ? (r.value as Record<string, unknown> ?? {}) : { error: r?.error }) });
      continue;
    }
    const name = ctx.runtime.services.logsRef(s, rec.slot).name;
    const info = await ctx.runtime.services.state(s, rec.slot);
    let detail: Record<string, unknown> = {};
    if (info?.state === 'running' && s !== 's3') {
      const job: WorkerJob = adminJob(ctx, s);
      if (job.postgres) Object.assign(job.postgres, { status: true, apps: pgLimitSpecs(ctx) });
      if (job.redis) job.redis.status = true;
      const r = (await ctx.jobs(job))[s];
      detail = r?.ok ? (r.value as Record<string, unknown>) : { error: r?.error };
    }
    out.push({ service: s, container: name, state: info?.state ?? 'missing', health: info?.health ?? null, image: info?.image ?? null,
      data_bytes: await du(ctx.runtime.services.dataDir(s, rec.slot)), ...isolation, ...detail });
  }
  return [...out, ...await dedicatedRedisStatus(ctx)];
}

/** One row per app with a Redis of its own: its state and how close it is to its maxmemory. */
async function dedicatedRedisStatus(ctx: Ctx) {
  const out = [];
  for (const { name: app } of ctx.store.listApps()) {
    if (!grantsOf(ctx, app).redis?.dedicated) continue;
    const container = ctx.runtime.services.dedicatedRedis.endpoint(app).host;
    const admin = await dedicatedAdmin(ctx, app, { start: false }).catch((e: Error) => e);
    if (admin instanceof Error) {
      out.push({ service: 'redis', app, container, state: 'not running', error: admin.message });
      continue;
    }
    const r = (await ctx.jobs({ redis: { admin, status: true } })).redis;
    const detail = r?.ok ? (r.value as Record<string, unknown>) : { error: r?.error };
    out.push({ service: 'redis', app, container, state: 'running', isolation: `${app} only`, ...detail });
  }
  return out;
}

/** An app's connection strings (root only: the API is on a root-only socket). */
export function appConnections(ctx: Ctx, app: string) {
  const g = grantsOf(ctx, app);
  const env = serviceEnv(ctx, app);
  return {
    database_url: env.DATABASE_URL ?? null,
    redis_url: env.REDIS_URL ?? null,
    postgres: g.postgres ? {
      container: ctx.runtime.services.logsRef('postgres').name, user: pgLogin(g.postgres, g.postgres.active),
      password: g.postgres.logins[g.postgres.active], db: g.postgres.db,
    } : null,
    redis: g.redis ? {
      // berth redis cli runs redis-cli in this container: the app's own Redis where it has one
      container: g.redis.dedicated ? ctx.runtime.services.dedicatedRedis.endpoint(app).host : ctx.runtime.services.logsRef('redis').name,
      ...redisCredential(g.redis), prefix: g.redis.prefix,
    } : null,
    s3: g.s3 ? { endpoint: env.S3_ENDPOINT, bucket: g.s3.bucket } : null,
  };
}
