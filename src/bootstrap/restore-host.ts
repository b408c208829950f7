// `berth restore-host`: disaster recovery on a fresh machine (or a wiped data root). It fetches
// the newest platform backup (core/backups/platform.ts) from an S3 target or a directory, opens
// it with the backup key, lays the state, master key, settings and Caddy's certificates back
// into the data root, brings the platform up as `berth up` does (fresh services under the same
// credentials), then asks the daemon to fill every app's database from its latest backup and
// starts the apps. It never overwrites: a data root that holds a platform is refused.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkTarget, rcloneConf, type S3Target } from '../core/backups/offsite.js';
import { PLATFORM, restoreHostMarker } from '../core/backups/platform.js';
import { restoredBucketsDir } from '../core/backups/buckets.js';
import { DaemonClient } from '../daemon/client.js';
import { copyTree } from '../exec/copy-tree.js';
import { BerthError } from '../lib/errors.js';
import type { EngineApi } from '../runtime/docker/engine-api.js';
import { ensurePgToolsImage } from '../runtime/docker/pg-tools-image.js';
import { runToEnd } from '../runtime/docker/run-to-end.js';
import { restoreClusterFromArchive } from '../runtime/docker/pg-archive.js';
import { loadImageFrom } from '../runtime/docker/image-archive.js';
import { ensurePostgresImage, SERVICE_UID } from '../runtime/docker/service-images.js';
import { ARCHIVE_ON_TARGET, archivePathFor } from '../core/backups/pitr.js';
import { Cipher } from '../lib/secrets.js';
import { openDb } from '../state/db.js';
import { Store } from '../state/store.js';
import { TASK_OUTPUT_DIR, TASK_SECRETS_DIR } from '../runtime/types.js';
import type { Paths } from '../state/paths.js';
import { ensureEngine } from './engine.js';
import { up } from './up.js';
import { rootBefore, undoRestore } from './restore-undo.js';

export type RestoreSource = { dir: string } | { s3: S3Target };
/** noArchive: leave the WAL archive aside (a damaged one): every app's latest logical backup instead. */
export interface RestoreHostOptions { from: RestoreSource; identity: string; api: EngineApi; progress: (l: string) => void; noArchive?: boolean }

const TASK_TIMEOUT_MS = 3600_000;

/** `s3://BUCKET[/PREFIX]` or a directory holding a copy of <root>/backups. */
export function parseSource(from: string, s3: Omit<S3Target, 'bucket' | 'prefix'> | null): RestoreSource {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(from);
  if (!m) {
    if (from.startsWith('s3:')) throw new BerthError('invalid', `${from} is not s3://BUCKET/PREFIX`, 'e.g. s3://my-backups/berth');
    if (!existsSync(join(from, PLATFORM))) {
      throw new BerthError('invalid', `${from} holds no ${PLATFORM} directory`, 'give a copy of the old server\'s <root>/backups');
    }
    return { dir: from };
  }
  if (!s3) throw new BerthError('invalid', 'an s3:// source needs --endpoint, --access-key and --secret-key-stdin');
  return { s3: checkTarget({ ...s3, bucket: m[1]!, prefix: m[2] ?? '' }) };
}

export async function restoreHost(p: Paths, o: RestoreHostOptions)
  : Promise<{ archive: string; from_archive: boolean; apps: { app: string; result: string }[] }> {
  const there = [p.stateDb, p.settings, p.keyFile].find((f) => existsSync(f));
  if (there) {
    throw new BerthError('conflict', `${p.root} already holds a platform (${there}): restore-host never overwrites one`,
      'restore into another root (--root), or move this one away first');
  }
  if (!/^AGE-SECRET-KEY-1[0-9A-Z]+$/m.test(o.identity)) {
    throw new BerthError('invalid', 'the key given is not an age identity (AGE-SECRET-KEY-1...)', 'give the file berth backup key export printed');
  }
  o.progress('… docker engine');
  await ensureEngine(o.api, o.progress, '/var/log/berth-restore-dockerd.log');
  const before = await rootBefore(p, o.api);
  const work = join(p.root, 'backups', PLATFORM);
  mkdirSync(work, { recursive: true, mode: 0o700 });
  const secrets = mkdtempSync(join(p.root, 'backups', '.restore-'));
  chmodSync(secrets, 0o700);
  try {
    // until the daemon takes over the apps' data, a failure takes back all this run made
    const { archive, fromArchive } = await bringBack(p, o, work, secrets).catch((e: unknown) => undoRestore(p, o.api, before, e, o.progress));
    const client = new DaemonClient(p.daemonSocket, 0);
    const apps = await client.stream<{ app: string; result: string }[]>('POST', '/platform/restore-data', { from_archive: fromArchive }, (e) => {
      if (e.type === 'progress') o.progress(`  ${String(e.line)}`);
    }, 'lost the daemon while it restored the apps\' data; run berth up, then berth backup restore NAME for each app');
    await new DaemonClient(p.daemonSocket, 300_000).call('POST', '/reconcile');
    return { archive, from_archive: fromArchive, apps };
  } finally {
    rmSync(secrets, { recursive: true, force: true });
    rmSync(restoreHostMarker(p), { force: true });
  }
}

/** The platform backup fetched and laid into the root, the cluster restored from the archive
 *  (when there is one and it is wanted), the platform brought up. */
async function bringBack(p: Paths, o: RestoreHostOptions, work: string, secrets: string): Promise<{ archive: string; fromArchive: boolean }> {
  writeFileSync(join(secrets, 'backup.key'), o.identity, { mode: 0o600 });
  const task = async (cmd: string, env: Record<string, string>) => {
    const r = await runToEnd(o.api, `berth-restore-host-${randomBytes(3).toString('hex')}`, {
      Image: await ensurePgToolsImage(o.api, o.progress), Cmd: [cmd], Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      HostConfig: { Binds: [`${work}:${TASK_OUTPUT_DIR}`, `${secrets}:${TASK_SECRETS_DIR}:ro`] },
    }, { timeoutMs: TASK_TIMEOUT_MS });
    if (r.exitCode !== 0) throw new BerthError('command_failed', `${cmd} failed: ${r.output.trim().slice(-500)}`);
    return r.output;
  };
  o.progress('… fetching the newest platform backup');
  const archive = await fetchArchive(o.from, work, secrets, task);
  o.progress(`✓ ${archive}`);
  const staged = `.unpacked-${randomBytes(3).toString('hex')}`;
  try {
    await task('unpack', { FILE: archive, STAGED: staged });
    await layDown(p, join(work, staged), o.identity);
    // the buckets' objects, for the daemon to put back once their buckets are made anew
    rmSync(restoredBucketsDir(work), { recursive: true, force: true });
    if (existsSync(join(work, staged, 'buckets'))) renameSync(join(work, staged, 'buckets'), restoredBucketsDir(work));
    await loadImages(o, join(work, staged, 'images'));
  } finally {
    rmSync(join(work, staged), { recursive: true, force: true }); // the state and master key, in clear
  }
  mkdirSync(p.runDir, { recursive: true, mode: 0o700 });
  writeFileSync(restoreHostMarker(p), `${process.pid}\n`);
  if ('dir' in o.from && resolve(o.from.dir) !== resolve(p.root, 'backups')) copyAppBackups(o.from.dir, join(p.root, 'backups'));
  o.progress('✓ state, keys, settings and certificates restored');
  const fromArchive = !o.noArchive && await restoreFromArchive(p, o, task);
  o.progress('… bringing the platform up');
  await up(p, { progress: o.progress, api: o.api });
  return { archive, fromArchive };
}

/** The shared PostgreSQL's WAL archive from the source (when it holds one), and the whole cluster
 *  restored from it to its end: every database as of the last archived segment, newer than the
 *  nightly logical backups. False when there is no archive (the logical backups are restored). */
async function restoreFromArchive(p: Paths, o: RestoreHostOptions, task: (cmd: string, env: Record<string, string>) => Promise<string>) {
  const settings = JSON.parse(readFileSync(p.settings, 'utf8')) as { services?: string[] };
  const db = openDb(p.stateDb);
  let rec: { mode: string; archiveCipher?: string; archiveSystemId?: string; archiveGeneration?: string } | null;
  try {
    const row = new Store(db).getService('postgres');
    rec = row ? Cipher.fromKeyFile(p.keyFile).decryptJSON(row.secret) : null;
  } finally {
    db.close();
  }
  if (!(settings.services ?? ['postgres']).includes('postgres') || rec?.mode !== 'container' || !rec.archiveCipher || !rec.archiveSystemId) {
    return false;
  }
  mkdirSync(p.archiveDir, { recursive: true, mode: 0o700 });
  if ('dir' in o.from) {
    const there = join(o.from.dir, ARCHIVE_ON_TARGET); // this server's own repository (one cluster's)
    if (existsSync(there) && resolve(there) !== resolve(p.archiveDir)) cpSync(there, p.archiveDir, { recursive: true });
  } else {
    o.progress('… fetching the WAL archive');
    const t = o.from.s3;
    // copied into the platform directory first (the task's /out), then moved into place
    const into = `.pitr-${randomBytes(3).toString('hex')}`;
    const from = archivePathFor(rec.archiveSystemId, rec.archiveGeneration);
    const got = join(p.root, 'backups', PLATFORM, into);
    const whole = await task('copy-tree-from', { KEY_AT: `${t.bucket}/${[t.prefix, from].filter(Boolean).join('/')}/`, STAGED: into }).then(() => true,
      (e: Error) => { o.progress(`  the WAL archive could not be fetched whole (${e.message.slice(0, 200)})`); return false; });
    // a part of an archive is no archive: recovering from it could stop anywhere
    if (!whole) rmSync(got, { recursive: true, force: true });
    if (existsSync(got)) { rmSync(p.archiveDir, { recursive: true, force: true }); renameSync(got, p.archiveDir); }
  }
  if (!existsSync(join(p.archiveDir, 'backup', 'berth', 'backup.info'))) {
    o.progress('  no WAL archive: every app\'s latest logical backup is restored instead');
    return false;
  }
  chownSync(p.archiveDir, SERVICE_UID, SERVICE_UID);
  for (const f of walk(p.archiveDir)) chownSync(f, SERVICE_UID, SERVICE_UID);
  o.progress('… restoring the shared PostgreSQL from the WAL archive, to its end');
  await ensurePostgresImage(o.api, o.progress);
  await restoreClusterFromArchive(o.api, p, rec.archiveCipher);
  // from now on its archive goes to a directory of its own on the targets
  const generation = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15).replace('T', '');
  const w = openDb(p.stateDb);
  try {
    const cipher = Cipher.fromKeyFile(p.keyFile);
    new Store(w).setService('postgres', rec.mode as 'container', cipher.encryptJSON({ ...rec, archiveGeneration: generation }));
  } finally {
    w.close();
  }
  o.progress('✓ PostgreSQL restored from the WAL archive');
  return true;
}

/** Every file and directory under dir. */
const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
  .flatMap((d) => [join(dir, d.name), ...(d.isDirectory() ? walk(join(dir, d.name)) : [])]);

async function fetchArchive(from: RestoreSource, work: string, secrets: string, task: (cmd: string, env: Record<string, string>) => Promise<string>) {
  if ('dir' in from) {
    const newest = readdirSync(join(from.dir, PLATFORM)).filter((f) => f.endsWith('.tar.age')).sort().pop();
    if (!newest) throw new BerthError('not_found', `no platform backup in ${join(from.dir, PLATFORM)}`);
    if (join(from.dir, PLATFORM) !== work) cpSync(join(from.dir, PLATFORM, newest), join(work, newest));
    return newest;
  }
  const t = from.s3;
  writeFileSync(join(secrets, 'rclone.conf'), rcloneConf(t), { mode: 0o600 });
  const file = `fetched-${randomBytes(3).toString('hex')}.tar.age`;
  const out = await task('latest-at', { KEY_AT: `${t.bucket}/${[t.prefix, PLATFORM].filter(Boolean).join('/')}`, FILE: file });
  const name = /^berth: fetched (\S+)$/m.exec(out)?.[1] ?? file;
  renameSync(join(work, file), join(work, name));
  return name;
}

/** The unpacked backup into the data root: state (0600), settings, Caddy's data, static files,
 *  apps' volumes (owners kept); the key beside the state. */
async function layDown(p: Paths, from: string, identity: string): Promise<void> {
  if (!existsSync(join(from, 'state', 'berth.db')) || !existsSync(join(from, 'state', 'master.key'))) {
    throw new BerthError('invalid', 'the platform backup holds no state database or master key', 'nothing was changed in the data root');
  }
  const manifest = JSON.parse(readFileSync(join(from, 'manifest.json'), 'utf8')) as { format: number };
  if (manifest.format !== 1) throw new BerthError('invalid', `the platform backup is of format ${manifest.format}, which this berth does not read`);
  mkdirSync(p.stateDir, { recursive: true, mode: 0o700 });
  for (const f of readdirSync(join(from, 'state'))) cpSync(join(from, 'state', f), join(p.stateDir, f));
  writeFileSync(join(p.stateDir, 'backup.key'), identity, { mode: 0o600 });
  for (const f of readdirSync(p.stateDir)) chmodSync(join(p.stateDir, f), 0o600);
  cpSync(join(from, 'berth.json'), p.settings);
  for (const [there, here] of [[join(from, 'caddy', 'data'), p.caddyDataDir], [join(from, 'static'), p.staticDir], [join(from, 'volumes'), p.volumesDir]]) {
    if (existsSync(there)) await copyTree(there, here);
  }
}

/** The app images the platform backup holds (berth backup platform --images) into this engine. */
async function loadImages(o: RestoreHostOptions, dir: string): Promise<void> {
  for (const f of existsSync(dir) ? readdirSync(dir).filter((x) => x.endsWith('.tar')) : []) {
    o.progress(`  ${await loadImageFrom(o.api, join(dir, f))}`);
  }
}

/** Every app's backup files from the directory given (the daemon fetches them from a target otherwise). */
function copyAppBackups(dir: string, to: string): void {
  for (const app of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory() && /^[a-z]/.test(d.name))) {
    cpSync(join(dir, app.name), join(to, app.name), { recursive: true });
  }
}
