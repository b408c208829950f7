// Images of the shared services (PostgreSQL, Redis, S3), built locally like Caddy's because no
// registry may be reachable: FROM scratch, holding programs from Debian packages (downloaded
// with apt-get download and unpacked with dpkg-deb -x; nothing is installed on the host) and the
// shared libraries ldd finds for them. Each is built once, then reused by tag.
//
// Versions used when this was written (Debian 12 bookworm + bookworm-security, amd64):
//   postgresql-15, postgresql-client-15, libpq5   15.20-0+deb12u1
//   pgbackrest                                    2.45-1
//   redis-server, redis-tools                     5:7.0.15-1~deb12u10
//   tzdata 2026f-0+deb12u1, busybox-static 1:1.35.0-4+deb12u1+b1
//   libjemalloc2 5.3.0-1, liblzf1 3.6-3 (Redis), and any other library package the host lacks
//   s3rver 3.7.1 (npm) on the host's node (v20.20.2)
// apt-get downloads the candidate version, so a rebuild picks up Debian's security updates; the
// versions an image holds are in its label berth.source.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../exec/run.js';
import { BerthError } from '../../lib/errors.js';
import { sourceFile } from '../../lib/install.js';
import type { EngineApi } from './engine-api.js';
import { S3RVER_ACCESS_KEY, SERVICE_PORTS } from '../../state/service-ports.js';
import { buildScratchImage, imageExists, imageLabel } from './images.js';

export const POSTGRES_IMAGE = 'berth/postgres:15-debian';
export const REDIS_IMAGE = 'berth/redis:7-debian';
export const S3_IMAGE = 'berth/s3:debian';

/** Where each image keeps its data: mount a volume there. */
export const POSTGRES_VOLUME_PATH = '/var/lib/postgresql/data';
export const REDIS_DATA_PATH = '/data';
export const S3_DATA_PATH = '/data';
export const POSTGRES_PORT = SERVICE_PORTS.postgres;
export const REDIS_PORT = SERVICE_PORTS.redis;
export const S3_PORT = SERVICE_PORTS.s3;
export const S3RVER_VERSION = '3.7.1';
export { S3RVER_ACCESS_KEY };

const PG = '/usr/lib/postgresql/15';
export const SERVICE_UID = 999;
const APT_TIMEOUT_MS = 5 * 60_000;
/** The shared PostgreSQL's entrypoint script, copied into its image. */
export const POSTGRES_ENTRYPOINT = sourceFile('src', 'runtime', 'docker', 'postgres-entrypoint.sh');
const passwd = (user: string, home: string) =>
  `root:x:0:0:root:/root:/sbin/nologin\n${user}:x:${SERVICE_UID}:${SERVICE_UID}:${user}:${home}:/sbin/nologin\n`;
const group = (user: string) => `root:x:0:\n${user}:x:${SERVICE_UID}:\n`;

// ---------------------------------------------------------------------------------------------
// Debian packages, unpacked into a temporary root

let aptUpdated = false;

/** Runs an apt command; if it fails, refreshes the package lists once (per process) and retries. */
async function withAptUpdate<T>(what: string, fn: () => Promise<T>, progress: (l: string) => void): Promise<T> {
  try {
    return await fn();
  } catch (first) {
    if (aptUpdated) throw first;
    progress(`${what} failed; refreshing the package lists (apt-get update) and retrying`);
    aptUpdated = true;
    await run(['apt-get', '-o', 'DPkg::Lock::Timeout=120', 'update'], { timeoutMs: APT_TIMEOUT_MS }).catch((e: Error) => {
      throw new BerthError('unavailable', `apt-get update failed: ${e.message}`, 'check that Debian\'s package mirror is reachable (/etc/apt/sources.list)');
    });
    return fn();
  }
}

async function installedPackages(): Promise<Set<string>> {
  const { stdout } = await run(['dpkg-query', '-W', '-f', '${db:Status-Abbrev} ${Package}\n']);
  return new Set(stdout.split('\n').filter((l) => l.startsWith('ii')).map((l) => l.trim().split(/\s+/).pop()!));
}

/**
 * Shared-library packages (lib*, zlib1g) the given packages need, directly or not, that this host
 * does not have: their libraries must come from the mirror too. An installed package's own
 * dependencies are installed, so the walk stops there. libllvm* is left out: it only serves
 * PostgreSQL's optional JIT (llvmjit.so), which the image does not carry.
 */
async function missingLibraryPackages(packages: string[], progress: (l: string) => void): Promise<string[]> {
  const installed = await installedPackages();
  const seen = new Set(packages);
  const missing: string[] = [];
  let frontier = packages;
  while (frontier.length) {
    const { stdout } = await withAptUpdate('apt-cache depends', () => run(['apt-cache', 'depends', '--no-recommends', '--no-suggests',
      '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...frontier]), progress);
    const next: string[] = [];
    let alternative = false; // the line follows a "|Depends": an alternative to the one taken
    for (const line of stdout.split('\n')) {
      const m = /^\s+(\|)?(?:Pre)?Depends: (\S+)$/.exec(line);
      const skip = alternative;
      alternative = !!m?.[1];
      if (!m || skip) continue;
      const name = m[2]!.replace(/:.*$/, '');
      if (name.startsWith('<') || !/^(lib|zlib1g$)/.test(name) || /^libllvm/.test(name) || seen.has(name)) continue;
      seen.add(name);
      if (installed.has(name)) continue;
      missing.push(name);
      next.push(name);
    }
    frontier = next;
  }
  return missing;
}

export interface Unpacked { dir: string; root: string; versions: Record<string, string> }

/** Downloads Debian packages (and the library packages the host lacks) and unpacks them all into one root. */
export async function unpackDebian(packages: string[], progress: (l: string) => void): Promise<Unpacked> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-debs-'));
  try {
    const libs = await missingLibraryPackages(packages, progress);
    const all = [...packages, ...libs];
    progress(`downloading Debian packages ${all.join(' ')}`);
    await withAptUpdate('apt-get download', () => run(['apt-get', 'download', ...all], { cwd: dir, timeoutMs: APT_TIMEOUT_MS }), progress)
      .catch((e: Error) => {
        throw new BerthError('unavailable', `cannot download the Debian packages ${all.join(' ')}: ${e.message}`,
          'check that Debian\'s package mirror is reachable (apt-get update) and that these packages exist for this release');
      });
    const root = join(dir, 'root');
    const versions: Record<string, string> = {};
    for (const deb of readdirSync(dir).filter((f) => f.endsWith('.deb'))) {
      await run(['dpkg-deb', '-x', join(dir, deb), root]);
      const { stdout } = await run(['dpkg-deb', '-f', join(dir, deb), 'Package', 'Version']);
      const f = Object.fromEntries(stdout.split('\n').map((l) => l.split(': ')).filter((p) => p.length === 2));
      versions[f.Package!] = f.Version!;
    }
    for (const p of all) if (!versions[p]) throw new BerthError('unavailable', `apt-get download did not fetch Debian package ${p}`);
    return { dir, root, versions };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export const sourceLabel = (u: Unpacked, packages: string[]) =>
  `debian ${packages.map((p) => `${p}=${u.versions[p]}`).join(' ')}`;

// ---------------------------------------------------------------------------------------------
// PostgreSQL 15

/**
 * berth/postgres:15-debian. Entrypoint src/runtime/docker/postgres-entrypoint.sh (busybox sh): with the
 * default Cmd `postgres` it creates the cluster on first start (POSTGRES_PASSWORD, scram-sha-256,
 * listening on all addresses) in POSTGRES_VOLUME_PATH/pgdata and runs the server as user
 * postgres (uid 999); any other Cmd (pg_dump, psql, pg_isready ...) runs as given.
 */
export async function ensurePostgresImage(api: EngineApi, progress: (l: string) => void): Promise<string> {
  const entrypoint = POSTGRES_ENTRYPOINT;
  if (!existsSync(entrypoint)) throw new BerthError('internal', `missing ${entrypoint}`);
  // the entrypoint is baked in: an image holding an older one is rebuilt
  const main = ['postgresql-15', 'postgresql-client-15', 'libpq5', 'pgbackrest', 'tzdata', 'busybox-static'];
  const entrypointHash = createHash('sha256').update(readFileSync(entrypoint)).update(main.join(' ')).digest('hex').slice(0, 16);
  const have = await imageLabel(api, POSTGRES_IMAGE, 'berth.entrypoint');
  if (have === entrypointHash) return POSTGRES_IMAGE;
  if (have !== null) progress(`${POSTGRES_IMAGE} holds an older entrypoint or packages: rebuilding it`);
  if (!existsSync('/usr/lib/locale/C.utf8') || !existsSync('/usr/bin/locale')) {
    throw new BerthError('unavailable', 'this host lacks /usr/lib/locale/C.utf8 or /usr/bin/locale (Debian package libc-bin)', 'apt-get install --reinstall libc-bin');
  }
  const u = await unpackDebian(main, progress);
  try {
    const bin = join(u.root, PG, 'bin');
    const lib = join(u.root, PG, 'lib');
    const binaries = readdirSync(bin).filter((f) => !lstatSync(join(bin, f)).isSymbolicLink());
    const links = readdirSync(bin).filter((f) => lstatSync(join(bin, f)).isSymbolicLink());
    // Modules the server loads (plpgsql, dict_snowball, the contrib extensions ...), without JIT.
    const modules = readdirSync(lib).filter((f) => f.endsWith('.so') && !f.startsWith('llvmjit'));
    // The busybox applets the entrypoint uses (busybox-static also finds them without links).
    const applets = ['sh', 'su', 'mkdir', 'chown', 'chmod', 'rm', 'rmdir', 'mv', 'mktemp', 'dirname', 'cat', 'ls', 'head'];
    await buildScratchImage(api, {
      tag: POSTGRES_IMAGE,
      libraryRoot: u.root,
      programs: [
        ...binaries.map((f) => ({ from: join(bin, f), to: `${PG}/bin/${f}` })),
        ...modules.map((f) => ({ from: join(lib, f), to: `${PG}/lib/${f}` })),
        { from: join(u.root, 'bin', 'busybox'), to: '/bin/busybox' },
        // WAL archiving and base backups for point-in-time recovery (src/runtime/docker/pg-archive.ts)
        { from: join(u.root, 'usr/bin/pgbackrest'), to: '/usr/bin/pgbackrest' },
        // initdb imports the system's collations with `locale -a` (host's libc-bin, like libc itself)
        { from: '/usr/bin/locale', to: '/usr/bin/locale' },
      ],
      trees: [
        { from: join(u.root, 'usr/share/postgresql/15'), to: '/usr/share/postgresql/15' },
        { from: join(u.root, 'usr/share/zoneinfo'), to: '/usr/share/zoneinfo' },
        { from: '/usr/lib/locale/C.utf8', to: '/usr/lib/locale/C.utf8' }, // glibc's, from the host's libc-bin, like libc itself
      ],
      files: [
        { from: entrypoint, to: '/usr/local/bin/berth-postgres-entrypoint', mode: 0o755 },
        { content: passwd('postgres', '/var/lib/postgresql'), to: '/etc/passwd' },
        { content: group('postgres'), to: '/etc/group' },
        { content: 'passwd: files\ngroup: files\nhosts: files dns\n', to: '/etc/nsswitch.conf' },
      ],
      symlinks: [
        ...applets.map((a) => ({ path: `/bin/${a}`, target: 'busybox' })),
        ...links.map((f) => ({ path: `${PG}/bin/${f}`, target: readlinkSync(join(bin, f)) })),
      ],
      dirs: [POSTGRES_VOLUME_PATH],
      writableDirs: ['/tmp', '/var/run/postgresql'],
      dockerfileTail: [
        `ENV PATH=${PG}/bin:/usr/local/bin:/usr/bin:/bin PGDATA=${POSTGRES_VOLUME_PATH}/pgdata LANG=C.UTF-8 TZ=Etc/UTC`,
        `EXPOSE ${POSTGRES_PORT}`,
        'STOPSIGNAL SIGINT',
        'ENTRYPOINT ["/usr/local/bin/berth-postgres-entrypoint"]',
        'CMD ["postgres"]',
      ],
      // berth.entrypoint: the entrypoint and the packages (an image without pgBackRest is rebuilt)
      labels: { 'berth.source': sourceLabel(u, main), 'berth.service': 'postgres', 'berth.entrypoint': entrypointHash },
    }, progress);
  } finally {
    rmSync(u.dir, { recursive: true, force: true });
  }
  return POSTGRES_IMAGE;
}

// ---------------------------------------------------------------------------------------------
// Redis 7

export const REDIS_ACL_FILE = `${REDIS_DATA_PATH}/users.acl`;

/**
 * berth/redis:7-debian: redis-server and redis-cli, no shell. The server runs as uid 999 with
 * AOF persistence in REDIS_DATA_PATH and its users in REDIS_ACL_FILE.
 *
 * The password: berth writes REDIS_ACL_FILE into the data volume before the container's first
 * start (written into its data directory by src/runtime/docker/service-containers.ts). Why not
 * `--requirepass` from an environment variable: that needs a shell entrypoint, and puts the
 * password in clear in the container's config and the server's argv. The ACL file holds only a
 * SHA-256 of it, and Redis refuses to start when the file is missing, so the server is never up
 * without a password. ACL SETUSER/ACL SAVE keep working (the file is the server's to rewrite).
 */
export async function ensureRedisImage(api: EngineApi, progress: (l: string) => void): Promise<string> {
  if (await imageExists(api, REDIS_IMAGE)) return REDIS_IMAGE;
  const main = ['redis-server', 'redis-tools'];
  const u = await unpackDebian(main, progress);
  try {
    // Debian ships one binary, redis-check-rdb; redis-server and redis-check-aof are links to it
    // (it picks its role from argv[0]).
    await buildScratchImage(api, {
      tag: REDIS_IMAGE,
      libraryRoot: u.root,
      programs: [
        { from: join(u.root, 'usr/bin/redis-check-rdb'), to: '/usr/bin/redis-server' },
        { from: join(u.root, 'usr/bin/redis-cli'), to: '/usr/bin/redis-cli' },
      ],
      files: [
        { content: passwd('redis', REDIS_DATA_PATH), to: '/etc/passwd' },
        { content: group('redis'), to: '/etc/group' },
      ],
      symlinks: [
        { path: '/usr/bin/redis-check-rdb', target: 'redis-server' },
        { path: '/usr/bin/redis-check-aof', target: 'redis-server' },
      ],
      writableDirs: ['/tmp', REDIS_DATA_PATH],
      dockerfileTail: [
        'ENV PATH=/usr/bin',
        `USER ${SERVICE_UID}:${SERVICE_UID}`,
        `WORKDIR ${REDIS_DATA_PATH}`,
        `EXPOSE ${REDIS_PORT}`,
        `CMD ["redis-server","--port","${REDIS_PORT}","--dir","${REDIS_DATA_PATH}","--appendonly","yes","--aclfile","${REDIS_ACL_FILE}"]`,
      ],
      labels: { 'berth.source': sourceLabel(u, main), 'berth.service': 'redis' },
    }, progress);
  } finally {
    rmSync(u.dir, { recursive: true, force: true });
  }
  return REDIS_IMAGE;
}

/** Content of REDIS_ACL_FILE: the default user, with every right, and only the SHA-256 of its password. */
export function redisAclFile(password: string): string {
  if (!password) throw new BerthError('invalid', 'the Redis password must not be empty');
  return `user default on #${createHash('sha256').update(password, 'utf8').digest('hex')} ~* &* +@all\n`;
}

// ---------------------------------------------------------------------------------------------
// S3 (s3rver)

// As PID 1, node ignores SIGTERM unless it handles it, so `docker stop` would wait its whole
// timeout and then SIGKILL. Exit at once instead (s3rver keeps nothing in memory worth saving).
const S3_MAIN = `// berth/s3:debian: s3rver's command line, stoppable as PID 1.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
require('./node_modules/s3rver/bin/s3rver.js');
`;

/**
 * berth/s3:debian: s3rver (npm; MinIO is not in Debian) on the host's node, listening on
 * 0.0.0.0:9000 as uid 999 with its buckets in S3_DATA_PATH. Known limits of s3rver: no users or
 * policies; it accepts only the access key id S3RVER_ACCESS_KEY, does not verify V4 signatures
 * (any secret passes), and serves unsigned (anonymous) requests in full. Keep it on a private
 * network. Clients using AWS SDKs that send CRC32 checksums by default (JS v3 since 3.729, and
 * others) must set requestChecksumCalculation / AWS_REQUEST_CHECKSUM_CALCULATION to
 * "when_required": s3rver does not know aws-chunked uploads and would store the chunk framing
 * as the object's content.
 */
export async function ensureS3Image(api: EngineApi, progress: (l: string) => void): Promise<string> {
  if (await imageExists(api, S3_IMAGE)) return S3_IMAGE;
  const dir = mkdtempSync(join(tmpdir(), 'berth-s3rver-'));
  try {
    // Its own package.json makes dir the project root, so npm installs nowhere else.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'berth-s3', private: true }));
    progress(`installing s3rver@${S3RVER_VERSION} from npm`);
    await run(['npm', 'install', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', `s3rver@${S3RVER_VERSION}`],
      { cwd: dir, timeoutMs: APT_TIMEOUT_MS }).catch((e: Error) => {
      throw new BerthError('unavailable', `cannot install s3rver@${S3RVER_VERSION} from npm: ${e.message}`, 'check that the npm registry is reachable (npm ping)');
    });
    const nodeModules = join(dir, 'node_modules');
    if (!existsSync(join(nodeModules, 's3rver', 'bin', 's3rver.js'))) throw new BerthError('internal', `npm did not install s3rver@${S3RVER_VERSION}`);
    await buildScratchImage(api, {
      tag: S3_IMAGE,
      programs: [{ from: process.execPath, to: '/usr/bin/node' }],
      trees: [{ from: nodeModules, to: '/opt/s3rver/node_modules' }],
      files: [
        { content: S3_MAIN, to: '/opt/s3rver/main.cjs' },
        { content: passwd('s3', S3_DATA_PATH), to: '/etc/passwd' },
        { content: group('s3'), to: '/etc/group' },
      ],
      writableDirs: ['/tmp', S3_DATA_PATH],
      dockerfileTail: [
        `USER ${SERVICE_UID}:${SERVICE_UID}`,
        'WORKDIR /opt/s3rver',
        `EXPOSE ${S3_PORT}`,
        `CMD ["/usr/bin/node","/opt/s3rver/main.cjs","--address","0.0.0.0","--port","${S3_PORT}","--directory","${S3_DATA_PATH}"]`,
      ],
      labels: { 'berth.source': `npm s3rver@${S3RVER_VERSION} on node ${process.version}`, 'berth.service': 's3' },
    }, progress);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return S3_IMAGE;
}
