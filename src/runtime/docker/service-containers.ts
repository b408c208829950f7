// The shared services as platform containers: PostgreSQL, Redis and S3 storage on the private
// network, data bind-mounted under <root>/services, memory limits for a 4 GB server, restarted
// with the engine. Specs are pure; ensureServiceContainer applies one.
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { BerthError } from '../../lib/errors.js';
import { type EngineApi, isNotFound } from './engine-api.js';
import { LABEL, type Names } from './specs.js';
import type { ServiceName } from '../../state/settings.js';
import type { Paths } from '../../state/paths.js';
import type { RedisMemory, ServiceSlot } from '../types.js';
import { GARAGE_ADMIN_PORT, GARAGE_REGION } from '../../state/service-ports.js';
import { ARCHIVE_REPO_PATH, archiveRepoDir, archivingServerArgs, writeArchiveConfig } from './pg-archive.js';
import { POSTGRES_VOLUME_PATH, REDIS_ACL_FILE, REDIS_DATA_PATH, REDIS_PORT, redisAclFile, S3_DATA_PATH, S3_PORT, SERVICE_UID } from './service-images.js';

const MB = 1024 * 1024;
export const MEMORY_LIMITS: Record<ServiceName, number> = { postgres: 1024 * MB, redis: 256 * MB, s3: 256 * MB };

/** Redis's command line: its memory for data (maxmemory) and what it does when that is full, so
 *  that one app filling Redis gets errors or evictions instead of the container killed for all. */
export function redisServerArgs(m: RedisMemory): string[] {
  return ['redis-server', '--port', String(REDIS_PORT), '--dir', REDIS_DATA_PATH, '--appendonly', 'yes', '--aclfile', REDIS_ACL_FILE,
    '--maxmemory', `${m.maxmemoryMb}mb`, '--maxmemory-policy', m.policy];
}
/** Room above maxmemory for connections, fragmentation and the copy-on-write of an AOF rewrite. */
export const redisContainerMemory = (m: RedisMemory) => Math.max(m.floorMb === undefined ? MEMORY_LIMITS.redis : m.floorMb * MB,
  Math.ceil(m.maxmemoryMb * 1.6) * MB);

const POSTGRES_INIT_PASSWORD_FILE = '.berth-init-password';
const S = 1_000_000_000; // Docker counts health-check durations in nanoseconds
/** Liveness as Docker sees it (docker ps shows it; berth services reports it). */
const HEALTHCHECKS: Record<ServiceName, string[]> = {
  postgres: ['CMD', 'pg_isready', '-q', '-h', '127.0.0.1'],
  // any reply (NOAUTH included) means the server answers
  redis: ['CMD', 'redis-cli', '-p', '6379', 'ping'],
  s3: ['CMD', '/usr/bin/node', '-e', "require('http').get('http://127.0.0.1:9000/',(r)=>process.exit(r.statusCode<500?0:1)).on('error',()=>process.exit(1))"],
};

/** `<instance>-s3`, or `<instance>-s3-garage` for the Garage a move brought up beside a MinIO. */
const slotted = (s: ServiceName, slot?: ServiceSlot) => (slot ? `${s}-${slot}` : s);
export const serviceContainerName = (n: Names, s: ServiceName, slot?: ServiceSlot) => `${n.instance}-${slotted(s, slot)}`;
export const serviceDataDir = (p: Paths, s: ServiceName, slot?: ServiceSlot) => join(p.root, 'services', slotted(s, slot));
/** A bundled object store's secret files (MinIO's root user and password, Garage's token and RPC
 *  secret), one file each (0600), mounted read-only: services/s3-secrets, services/s3-garage-secrets. */
export const minioSecretsDir = (p: Paths, slot?: ServiceSlot) => join(p.root, 'services', `${slotted('s3', slot)}-secrets`);
/** Where a service's container runs: the shared one (`<instance>-redis`), or an app's own Redis
 *  (`<instance>-redis-APP`, data under <root>/services/redis-apps/APP, labelled with the app), or a
 *  slot beside the usual one (`<instance>-s3-garage`: data and secrets of its own). */
export interface Placement { name: string; dataDir: string; labels: Record<string, string>; secretsDir?: string }
export const sharedPlacement = (n: Names, p: Paths, s: ServiceName, slot?: ServiceSlot): Placement => ({
  name: serviceContainerName(n, s, slot), dataDir: serviceDataDir(p, s, slot), labels: slot ? { 'berth.slot': slot } : {},
  ...(slot ? { secretsDir: minioSecretsDir(p, slot) } : {}),
});
export const dedicatedRedisPlacement = (n: Names, p: Paths, app: string): Placement =>
  ({ name: `${n.instance}-redis-${app}`, dataDir: join(p.root, 'services', 'redis-apps', app), labels: { 'berth.redis-for': app } });
const MINIO_SECRETS_PATH = '/run/secrets/berth';

/** How to run MinIO (image minio/minio) instead of the local s3rver build. */
export interface MinioRun { rootUser: string }
const MINIO_HEALTHCHECK = ['CMD', 'mc', 'ready', 'local'];
/** How to run Garage (dxflrs/garage, or berth's local build: both hold only /garage). */
export interface GarageRun { rpcSecret: string }
const GARAGE_CONFIG = `${MINIO_SECRETS_PATH}/garage.toml`;
// the CLI asks the node itself over RPC (same config, same uid): a liveness check without a shell
const GARAGE_HEALTHCHECK = ['CMD', '/garage', '-c', GARAGE_CONFIG, 'status'];

/** Garage's configuration: one node (replication 1), RPC on loopback only, S3 on berth's S3 port
 *  and the admin API beside it; secrets in files next to it, never in the file itself (pure). */
export function garageConfig(): string {
  return [
    `metadata_dir = "${S3_DATA_PATH}/meta"`, `data_dir = "${S3_DATA_PATH}/blocks"`, 'db_engine = "lmdb"', 'replication_factor = 1',
    'rpc_bind_addr = "127.0.0.1:3901"', 'rpc_public_addr = "127.0.0.1:3901"', `rpc_secret_file = "${MINIO_SECRETS_PATH}/rpc_secret"`, '',
    '[s3_api]', `s3_region = "${GARAGE_REGION}"`, `api_bind_addr = "0.0.0.0:${S3_PORT}"`, '',
    // the admin API listens where apps can reach it too: every call but /health needs a token, /metrics included
    '[admin]', `api_bind_addr = "0.0.0.0:${GARAGE_ADMIN_PORT}"`, `admin_token_file = "${MINIO_SECRETS_PATH}/admin_token"`, 'metrics_require_token = true', '',
  ].join('\n');
}

/** What a service's container needs beyond its image: a bundled MinIO's or Garage's secrets,
 *  Redis's memory settings, and where it runs (the shared container, or an app's own Redis). */
export interface ServiceExtras { minio?: MinioRun; garage?: GarageRun; redis?: RedisMemory; at?: Placement; archive?: { cipherPass: string } }

export function serviceContainerSpec(n: Names, p: Paths, s: ServiceName, image: string, adminPassword: string, x: ServiceExtras = {}) {
  const { minio, garage, redis } = x;
  const at = x.at ?? sharedPlacement(n, p, s);
  const archive = s === 'postgres' && x.archive; // WAL archiving, its repository mounted (pg-archive.ts)
  const mount = { postgres: POSTGRES_VOLUME_PATH, redis: REDIS_DATA_PATH, s3: S3_DATA_PATH }[s];
  // MinIO reads its root credentials from files (MINIO_ROOT_*_FILE), written by prepareData
  const env = minio ? [`MINIO_ROOT_USER_FILE=${MINIO_SECRETS_PATH}/root_user`, `MINIO_ROOT_PASSWORD_FILE=${MINIO_SECRETS_PATH}/root_password`, 'MINIO_BROWSER=off'] : [];
  const secrets = !!(minio || garage);
  const body = {
    Image: image,
    // PostgreSQL's first password is in a file on its volume, Redis's in its ACL file, MinIO's and
    // Garage's in a read-only mount (prepareData): none shows in docker inspect.
    Env: env,
    ...(minio ? { Cmd: ['server', S3_DATA_PATH, '--address', `:${S3_PORT}`] } : {}),
    ...(garage ? { Entrypoint: ['/garage'], Cmd: ['-c', GARAGE_CONFIG, 'server'], User: `${SERVICE_UID}:${SERVICE_UID}` } : {}),
    ...(s === 'redis' && redis ? { Cmd: redisServerArgs(redis) } : {}),
    ...(archive ? { Cmd: archivingServerArgs() } : {}),
    Labels: { [LABEL.instance]: n.instance, [LABEL.role]: 'service', [LABEL.service]: s, ...at.labels } as Record<string, string>,
    Healthcheck: {
      Test: minio ? MINIO_HEALTHCHECK : garage ? GARAGE_HEALTHCHECK : HEALTHCHECKS[s], Interval: 10 * S, Timeout: 5 * S, Retries: 3, StartPeriod: 30 * S,
    },
    HostConfig: {
      Binds: [`${at.dataDir}:${mount}`, ...(secrets ? [`${at.secretsDir ?? minioSecretsDir(p)}:${MINIO_SECRETS_PATH}:ro`] : []),
        ...(archive ? [`${archiveRepoDir(p)}:${ARCHIVE_REPO_PATH}`] : [])],
      NetworkMode: n.network,
      RestartPolicy: { Name: 'unless-stopped' },
      Memory: s === 'redis' && redis ? redisContainerMemory(redis) : MEMORY_LIMITS[s],
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
    },
  };
  // the hash leaves the password out: a spec must not change because a secret is re-read
  const hashed = { ...body, Env: body.Env.map((e) => e.replace(/=.*/, '')) };
  body.Labels['berth.spec'] = createHash('sha256').update(JSON.stringify(hashed)).digest('hex').slice(0, 16);
  return body;
}

/** Prepares the data directory, and the admin password where the service reads it: a file for
 *  PostgreSQL's first start, Redis's ACL file (on first start), MinIO's secret files. */
function prepareData(p: Paths, s: ServiceName, adminPassword: string, x: Pick<ServiceExtras, 'minio' | 'garage' | 'archive'>, at: Placement): void {
  const { minio, garage } = x;
  const dir = at.dataDir;
  if (minio) {
    const secretsDir = at.secretsDir ?? minioSecretsDir(p);
    mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(secretsDir, 'root_user'), minio.rootUser, { mode: 0o600 });
    writeFileSync(join(secretsDir, 'root_password'), adminPassword, { mode: 0o600 });
  }
  if (garage) {
    // Garage runs as uid 999 and refuses secret files others can read: 0600, owned by 999
    const secretsDir = at.secretsDir ?? minioSecretsDir(p);
    mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
    const files: [string, string, number][] = [
      ['garage.toml', garageConfig(), 0o644], ['rpc_secret', garage.rpcSecret, 0o600], ['admin_token', adminPassword, 0o600],
    ];
    for (const [f, content, mode] of files) {
      writeFileSync(join(secretsDir, f), content, { mode });
      chmodSync(join(secretsDir, f), mode);
      chownSync(join(secretsDir, f), SERVICE_UID, SERVICE_UID);
    }
    chownSync(secretsDir, SERVICE_UID, SERVICE_UID);
    chmodSync(secretsDir, 0o700);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (s !== 'postgres') chownSync(dir, SERVICE_UID, SERVICE_UID); // redis and s3 run as uid 999
  chmodSync(dir, 0o700);
  if (s === 'postgres' && !existsSync(join(dir, 'pgdata', 'PG_VERSION'))) {
    // read by the entrypoint to create the cluster, then removed
    writeFileSync(join(dir, POSTGRES_INIT_PASSWORD_FILE), `${adminPassword}\n`, { mode: 0o600 });
  }
  if (s === 'postgres' && x.archive) {
    // pgBackRest runs as the server's user (uid 999): its config (it holds the cipher pass) and repository are its own
    mkdirSync(archiveRepoDir(p), { recursive: true, mode: 0o700 });
    chownSync(archiveRepoDir(p), SERVICE_UID, SERVICE_UID);
    writeArchiveConfig(dir, x.archive.cipherPass);
  }
  const acl = join(dir, REDIS_ACL_FILE.slice(REDIS_DATA_PATH.length + 1));
  if (s === 'redis' && !existsSync(acl)) {
    writeFileSync(acl, redisAclFile(adminPassword), { mode: 0o600 });
    chownSync(acl, SERVICE_UID, SERVICE_UID);
  }
}

type Inspect = { Id: string; Config: { Labels: Record<string, string> }; State: { Running: boolean }; NetworkSettings: { Networks: Record<string, { IPAddress: string }> } };

/** Creates, recreates (when its spec changed) or starts the service's container; returns its address. */
export async function ensureServiceContainer(api: EngineApi, n: Names, p: Paths, s: ServiceName, image: string, adminPassword: string,
  progress: (l: string) => void, x: ServiceExtras = {}): Promise<{ result: string; ip: string; id: string }> {
  const at = x.at ?? sharedPlacement(n, p, s);
  prepareData(p, s, adminPassword, x, at);
  const name = at.name;
  const spec = serviceContainerSpec(n, p, s, image, adminPassword, x);
  const inspect = () => api.json<Inspect>('GET', `/containers/${name}/json`, `inspect ${name}`).catch((e) => { if (isNotFound(e)) return null; throw e; });
  const info = await inspect();
  let result = 'ok';
  const drifted = info !== null && info.Config.Labels['berth.spec'] !== spec.Labels['berth.spec'];
  if (drifted) {
    // said out loud: the service is down while its container is replaced (data is kept)
    progress(`${s}: its container spec changed (image, limits or settings): replacing ${name}; its clients lose their connections for a few seconds, data is kept`);
    await api.buffer('DELETE', `/containers/${name}`, `remove ${name}`, { query: { force: true } });
  }
  if (!info || drifted) {
    await api.json('POST', '/containers/create', `create ${name}`, { query: { name }, body: spec });
    result = info ? 'recreated' : 'created';
  }
  if (!info || drifted || !info.State.Running) {
    await api.buffer('POST', `/containers/${name}/start`, `start ${name}`);
    if (result === 'ok') result = 'started';
  }
  let now = await inspect();
  if (now?.State.Running && !now.NetworkSettings.Networks[n.network]) {
    // cut off the network (e.g. the network was removed and created again): attach it
    await api.buffer('POST', `/networks/${n.network}/connect`, `attach ${name}`, { body: { Container: now.Id } });
    now = await inspect();
    if (result === 'ok') result = 'reattached';
  }
  const ip = now?.NetworkSettings.Networks[n.network]?.IPAddress;
  if (!now?.State.Running || !ip) throw new BerthError('unavailable', `${s} container ${name} is not running`, `see: docker logs ${name}`);
  return { result, ip, id: now.Id };
}
