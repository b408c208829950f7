// Point-in-time recovery of the shared PostgreSQL on Docker: pgBackRest (Debian's, in berth's
// PostgreSQL image) archives every WAL segment as the server closes it (archive_command) into a
// repository on the host (<root>/backups/_pitr, encrypted with the repository cipher), and takes
// base backups when asked (exec in the server's container). A restore to an instant runs in
// containers of its own: pgBackRest restores into a scratch directory, then a scratch server
// replays the WAL up to that instant and is promoted, on an internal network no app is on.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.js';
import { demux } from '../../lib/frames.js';
import type { Paths } from '../../state/paths.js';
import type { PgArchiveRuntime, Progress, RunOptions } from '../types.js';
import { type EngineApi, isNotFound } from './engine-api.js';
import type { DockerNetworks } from './networks.js';
import { runToEnd } from './run-to-end.js';
import { POSTGRES_IMAGE, POSTGRES_PORT, POSTGRES_VOLUME_PATH, SERVICE_UID } from './service-images.js';
import { LABEL, type Names } from './specs.js';

export const STANZA = 'berth';
/** Where the server's container sees the repository, and pgBackRest's config (0600, on the data volume). */
export const ARCHIVE_REPO_PATH = '/var/lib/pgbackrest';
export const ARCHIVE_CONFIG = `${POSTGRES_VOLUME_PATH}/pgbackrest.conf`;
export const ARCHIVE_CONFIG_FILE = 'pgbackrest.conf';
/** Where a scratch restore's containers see the same config (restore_command names it). */
const SCRATCH_CONFIG = '/etc/berth/pgbackrest.conf';
const PGDATA = `${POSTGRES_VOLUME_PATH}/pgdata`;
/** A WAL segment is archived at the latest this long after it was written to: the most an
 *  archive on this disk can lag behind (berth runs `pgbackrest check` before a restore anyway). */
export const ARCHIVE_TIMEOUT_S = 60;
const SCRATCH_MEMORY = 512 * 1024 * 1024;
const RECOVERY_TIMEOUT_MS = 30 * 60_000;

export const archiveRepoDir = (p: Paths) => p.archiveDir;
const scratchDir = (p: Paths, id: string) => join(p.root, 'backups', '.scratch', `pitr-${id}`);

/** pgBackRest's config: one local repository, encrypted, two full backups kept (and the WAL
 *  they need), zstd, no log files (its output comes back to berth). */
export function pgbackrestConfig(cipherPass: string): string {
  if (!/^[A-Za-z0-9_-]{32,}$/.test(cipherPass)) throw new BerthError('internal', 'the archive cipher pass must be 32+ url-safe characters');
  return ['[global]', `repo1-path=${ARCHIVE_REPO_PATH}`, 'repo1-cipher-type=aes-256-cbc', `repo1-cipher-pass=${cipherPass}`,
    'repo1-retention-full=2', 'compress-type=zst', 'start-fast=y', 'log-level-console=info', 'log-level-file=off',
    'lock-path=/tmp/pgbackrest', '', `[${STANZA}]`, `pg1-path=${PGDATA}`, 'pg1-user=postgres', ''].join('\n');
}

/** pgBackRest's config on PostgreSQL's data directory, 0600 and the server's user's (it holds the cipher pass). */
export function writeArchiveConfig(dataDir: string, cipherPass: string): void {
  const conf = join(dataDir, ARCHIVE_CONFIG_FILE);
  writeFileSync(conf, pgbackrestConfig(cipherPass), { mode: 0o600 });
  chmodSync(conf, 0o600);
  chownSync(conf, SERVICE_UID, SERVICE_UID);
}

/** The server's command line with archiving on (pgBackRest pushes each segment as it is closed). */
export function archivingServerArgs(): string[] {
  return ['postgres', '-c', 'archive_mode=on', '-c', `archive_command=pgbackrest --config=${ARCHIVE_CONFIG} --stanza=${STANZA} archive-push %p`,
    '-c', `archive_timeout=${ARCHIVE_TIMEOUT_S}`];
}

/** An instant as pgBackRest's --target takes it: UTC, milliseconds. */
export const pitrTarget = (d: Date) => `${d.toISOString().replace('T', ' ').replace('Z', '')}+00`;

export class DockerPgArchive implements PgArchiveRuntime {

  constructor(private readonly api: EngineApi, private readonly names: Names, private readonly paths: Paths,
    private readonly networks: DockerNetworks, private readonly configFile: string) {}

  async exec(cmd: string[], o: RunOptions & { password: string }): Promise<{ exitCode: number; output: string }> {
    const name = `${this.names.instance}-postgres`;
    // the password goes in the exec's env, never in a file or the container's config; pgBackRest
    // finds its config and stanza in its own variables
    const env = [`PGPASSWORD=${o.password}`, `PGBACKREST_CONFIG=${ARCHIVE_CONFIG}`, `PGBACKREST_STANZA=${STANZA}`, 'PGHOST=/var/run/postgresql'];
    const { Id } = await this.api.json<{ Id: string }>('POST', `/containers/${name}/exec`, `exec in ${name}`, {
      body: { Cmd: cmd, User: 'postgres', Env: env, AttachStdout: true, AttachStderr: true },
    });
    const out = await this.api.buffer('POST', `/exec/${Id}/start`, `run ${cmd[0]} in ${name}`, { body: { Detach: false, Tty: false }, timeoutMs: o.timeoutMs });
    const { ExitCode } = await this.api.json<{ ExitCode: number | null }>('GET', `/exec/${Id}/json`, `inspect exec in ${name}`);
    const lines = demux(out).split('\n');
    return { exitCode: ExitCode ?? -1, output: lines.slice(-(o.outputLines ?? 50) - 1).join('\n') };
  }

  async atTime<T>(o: { at: Date; db: string }, fn: (s: { network: string; host: string; port: number }) => Promise<T>,
    opts: RunOptions & { progress?: Progress }): Promise<T> {
    const id = randomBytes(4).toString('hex');
    const name = `${this.names.instance}-pitr-${id}`;
    const dir = scratchDir(this.paths, id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chownSync(dir, SERVICE_UID, SERVICE_UID);
    const binds = [`${dir}:${POSTGRES_VOLUME_PATH}`, `${archiveRepoDir(this.paths)}:${ARCHIVE_REPO_PATH}:ro`, `${this.configFile}:${SCRATCH_CONFIG}:ro`];
    const labels = { [LABEL.instance]: this.names.instance, [LABEL.role]: 'one-off' };
    try {
      const how = await this.restore(name, o, binds, labels, opts);
      opts.progress?.(how === 'database' ? `restored ${o.db} alone from the base backup before the instant`
        : `the base backup before the instant predates ${o.db}: restored the whole cluster`);
      await this.networks.createScratch(name);
      await this.api.json('POST', '/containers/create', `create ${name}`, { query: { name }, body: {
        Image: POSTGRES_IMAGE, Cmd: ['postgres', '-c', 'archive_mode=off'], Labels: labels,
        HostConfig: { Binds: binds, NetworkMode: name, Memory: SCRATCH_MEMORY },
      } });
      await this.api.buffer('POST', `/containers/${name}/start`, `start ${name}`);
      await this.recovered(name, o.at, opts);
      return await fn({ network: name, host: name, port: POSTGRES_PORT });
    } finally {
      // each step whatever became of the one before: the data (every app's, in clear) goes first
      await this.api.buffer('DELETE', `/containers/${name}`, `remove ${name}`, { query: { force: true } }).catch((e) => { if (!isNotFound(e)) throw e; })
        .finally(() => rmSync(dir, { recursive: true, force: true }))
        .finally(() => this.networks.removeScratch(name));
    }
  }

  async sweep(): Promise<string[]> {
    const gone: string[] = [];
    const prefix = `${this.names.instance}-pitr-`;
    const cs = await this.api.json<{ Id: string; Names: string[] }[]>('GET', '/containers/json', 'list containers', {
      query: { all: true, filters: JSON.stringify({ name: [prefix] }) } });
    for (const c of cs.filter((x) => x.Names.some((n) => n.slice(1).startsWith(prefix)))) {
      await this.api.buffer('DELETE', `/containers/${c.Id}`, `remove ${c.Names[0]}`, { query: { force: true } }).catch((e) => { if (!isNotFound(e)) throw e; });
      gone.push(`container ${c.Names[0]!.slice(1)}`);
    }
    const nets = await this.api.json<{ Name: string; Labels?: Record<string, string> }[]>('GET', '/networks', 'list networks', {
      query: { filters: JSON.stringify({ label: [`${LABEL.instance}=${this.names.instance}`, 'berth.scratch=pitr'] }) } });
    for (const n of nets) { await this.networks.removeScratch(n.Name); gone.push(`network ${n.Name}`); }
    const scratch = join(this.paths.root, 'backups', '.scratch');
    for (const d of existsSync(scratch) ? readdirSync(scratch).filter((x) => x.startsWith('pitr-')) : []) {
      rmSync(join(scratch, d), { recursive: true, force: true });
      gone.push(join(scratch, d));
    }
    return gone;
  }

  /** pgBackRest restores the backup set before `at` with recovery settings for it: only the
   *  app's database when that set holds it, the whole cluster when the database came later. */
  private async restore(name: string, o: { at: Date; db: string }, binds: string[], labels: Record<string, string>, opts: RunOptions)
    : Promise<'database' | 'cluster'> {
    const base = ['pgbackrest', `--config=${SCRATCH_CONFIG}`, `--stanza=${STANZA}`, `--pg1-path=${PGDATA}`, '--type=time',
      `--target=${pitrTarget(o.at)}`, '--target-action=promote'];
    const body = (cmd: string[]) => ({ Image: POSTGRES_IMAGE, Cmd: cmd, User: `${SERVICE_UID}:${SERVICE_UID}`, Labels: labels,
      HostConfig: { Binds: binds, NetworkMode: 'none' } });
    let r = await runToEnd(this.api, `${name}-restore`, body([...base, `--db-include=${o.db}`, 'restore']), opts);
    let how: 'database' | 'cluster' = 'database';
    if (r.exitCode !== 0 && /ERROR: \[080\]/.test(r.output)) {
      how = 'cluster';
      rmSync(join(binds[0]!.split(':')[0]!, 'pgdata'), { recursive: true, force: true });
      r = await runToEnd(this.api, `${name}-restore`, body([...base, 'restore']), opts);
    }
    if (r.exitCode !== 0) {
      throw new BerthError('command_failed', `pgBackRest could not restore the archive at ${o.at.toISOString()}: ${errorLines(r.output)}`,
        'see the recoverable window: berth backup pitr');
    }
    return how;
  }

  /** Waits until the scratch server has replayed the WAL to the target and been promoted; one that
   *  stops (the archive ends before the target) is said with its last words. */
  private async recovered(name: string, at: Date, opts: RunOptions): Promise<void> {
    const end = Date.now() + Math.min(opts.timeoutMs, RECOVERY_TIMEOUT_MS);
    for (;;) {
      const log = demux(await this.api.buffer('GET', `/containers/${name}/logs`, `logs ${name}`, { query: { stdout: true, stderr: true, tail: 200 } }));
      // "ready to accept read-only connections" is a standby still replaying; this line comes after the promotion
      if (/database system is ready to accept connections/.test(log) && /archive recovery complete/.test(log)) return;
      const { State } = await this.api.json<{ State: { Running: boolean } }>('GET', `/containers/${name}/json`, `inspect ${name}`);
      if (!State.Running) {
        throw new BerthError('command_failed', `the scratch server could not recover to ${at.toISOString()}: ${errorLines(log)}`,
          'see the recoverable window: berth backup pitr');
      }
      if (Date.now() > end) throw new BerthError('timeout', `the scratch server did not reach ${at.toISOString()} in time`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Disaster recovery (restore-host): the whole cluster from the archive in <root>/backups/_pitr,
 *  to its end, into the shared server's data directory, before the server first starts there. The
 *  server then replays the WAL to the last archived segment, is promoted, and archives on. */
export async function restoreClusterFromArchive(api: EngineApi, p: Paths, cipherPass: string): Promise<void> {
  const dataDir = join(p.root, 'services', 'postgres');
  if (existsSync(join(dataDir, 'pgdata'))) {
    throw new BerthError('conflict', `${dataDir}/pgdata exists: the archive is restored into an empty data directory only`);
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chownSync(dataDir, SERVICE_UID, SERVICE_UID);
  writeArchiveConfig(dataDir, cipherPass);
  const r = await runToEnd(api, `berth-restore-cluster-${randomBytes(3).toString('hex')}`, {
    Image: POSTGRES_IMAGE, User: `${SERVICE_UID}:${SERVICE_UID}`,
    Cmd: ['pgbackrest', `--config=${ARCHIVE_CONFIG}`, `--stanza=${STANZA}`, 'restore'],
    HostConfig: { Binds: [`${dataDir}:${POSTGRES_VOLUME_PATH}`, `${archiveRepoDir(p)}:${ARCHIVE_REPO_PATH}`], NetworkMode: 'none' },
  }, { timeoutMs: RECOVERY_TIMEOUT_MS * 4 });
  if (r.exitCode !== 0) {
    rmSync(join(dataDir, 'pgdata'), { recursive: true, force: true });
    throw new BerthError('command_failed', `pgBackRest could not restore the cluster from the archive: ${errorLines(r.output)}`,
      'run restore-host again with --no-archive: every app\'s latest logical backup instead');
  }
}

/** The lines of pgBackRest's or PostgreSQL's output that say what went wrong. */
function errorLines(out: string): string {
  const bad = out.split('\n').filter((l) => /ERROR|FATAL|HINT|PANIC/.test(l));
  return (bad.length ? bad : out.trim().split('\n')).slice(-6).join(' / ').slice(0, 1500);
}
