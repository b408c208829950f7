// The services worker: a process, kept warm only while jobs come in, that talks to PostgreSQL,
// Redis and S3 with their client libraries, so the daemon never loads them (together they would
// more than double its resident memory). Jobs (JSON, secrets included) come one per line on
// stdin, results go one per line to stdout; each service's outcome is reported separately.
import { applyConnectionLimits, applyPostgres, dropPostgres, postgresStatus, terminateClosedLogins } from './postgres.js';
import { applyRedis, dropRedis, redisStatus } from './redis.js';
import { checkS3 } from './s3.js';
import { canManageUsers } from './object-store/minio.js';
import { applyGrant, dropGrant, type StoreAccess, storeFor } from './object-store/index.js';
import { setupGarage } from './object-store/garage-setup.js';
import { ndjson } from '../lib/ndjson.js';
import type { AdminEndpoint, PgGrant, PgLimitSpec, RedisGrant, S3Grant } from './model.js';
import { redact } from '../lib/redact.js';

export interface WorkerJob {
  /** limits: every app's connection limit, set where it differs (after the grant); apps: whose connections status reports */
  postgres?: {
    admin: AdminEndpoint; grant?: PgGrant; terminateClosed?: boolean; status?: boolean; drop?: boolean; limits?: PgLimitSpec[]; apps?: PgLimitSpec[];
  };
  redis?: { admin: AdminEndpoint; grant?: RedisGrant; status?: boolean; drop?: boolean };
  /** detect: whether the server is MinIO (admin API answers); setup: a bundled Garage's first
   *  start (layout, scoped token: the root token and the scoped one berth holds, if any) */
  s3?: { store: StoreAccess; grant?: S3Grant; drop?: boolean; detect?: boolean;
    setup?: { rootToken: string; token: string | null } };
}
export type WorkerResult = Record<string, { ok: true; value?: unknown } | { ok: false; error: string }>;

async function runJob(job: WorkerJob): Promise<WorkerResult> {
  const out: WorkerResult = {};
  const attempt = async (name: string, fn: () => Promise<unknown>) => {
    try {
      out[name] = { ok: true, value: await fn() };
    } catch (e) {
      out[name] = { ok: false, error: (e as Error).message || String(e) };
    }
  };
  await Promise.all([
    job.postgres && attempt('postgres', async () => {
      const p = job.postgres!;
      if (p.grant && p.drop) return dropPostgres(p.admin, p.grant);
      if (p.grant) await applyPostgres(p.admin, p.grant, p.limits);
      else if (p.limits) await applyConnectionLimits(p.admin, p.limits);
      const terminated = p.grant && p.terminateClosed ? await terminateClosedLogins(p.admin, p.grant) : 0;
      return p.status ? await postgresStatus(p.admin, p.apps) : { terminated };
    }),
    job.redis && attempt('redis', async () => {
      if (job.redis!.grant && job.redis!.drop) return { deleted_keys: await dropRedis(job.redis!.admin, job.redis!.grant) };
      if (job.redis!.grant) await applyRedis(job.redis!.admin, job.redis!.grant);
      return job.redis!.status ? await redisStatus(job.redis!.admin) : undefined;
    }),
    job.s3 && attempt('s3', async () => {
      const { store: access, grant, setup } = job.s3!;
      if (setup && access.kind === 'garage') return { token: await setupGarage(access.garage.admin, setup.rootToken, setup.token) };
      if (job.s3!.detect && access.kind !== 'garage') { await checkS3(access.admin); return { users: await canManageUsers(access.admin) }; }
      const store = storeFor(access);
      if (grant && job.s3!.drop) return dropGrant(store, grant);
      if (grant) return applyGrant(store, grant);
      await store.check();
      return { capabilities: store.capabilities };
    }),
  ]);
  return out;
}

// One job per line on stdin, one result per line on stdout (the parent sends the next job only
// after the last result); exits when stdin closes, once the job at hand is done.
try {
  for await (const job of ndjson<WorkerJob>(process.stdin)) process.stdout.write(`${JSON.stringify(await runJob(job))}\n`);
} catch (e) {
  process.stderr.write(`services worker: ${redact((e as Error).message) as string}\n`);
  process.exit(1);
}
process.exit(0);
