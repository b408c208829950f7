// What core needs from a container runtime: the only way it reaches containers, images, health
// probes, one-off jobs and the shared services' containers. The single-host Docker driver
// implements it (docker/driver.ts); an in-memory fake (fake.ts) passes the same contract suite
// (contract.ts); a Swarm driver will sit beside them (PRODUCT.md item 11).
import type { Builder } from './build/types.js';
import type { Limits } from '../lib/limits.js';
import type { Duplex } from 'node:stream';
import type { ServiceName } from '../state/settings.js';

/** A process type of an app: `web` serves HTTP through the proxy; others (worker, beat, ...)
 *  are named by the app. Data, not a fixed set. */
export type ProcessType = string;
export const WEB: ProcessType = 'web';

/** One process of one release, as the runtime should run it. */
export interface ProcessSpec {
  app: string;
  release: string; // v3
  process: ProcessType;
  image: string; // an image id or reference already present
  env: Record<string, string>;
  cmd?: string[];
  port: number;
  /** Memory, CPU, processes and capabilities (lib/limits.ts); the defaults when absent. */
  limits?: Limits;
  /** Which copy of the process this is, from 1 (a worker with replicas: 2 runs 1 and 2). */
  replica?: number;
  /** Replaces the image's ENTRYPOINT. */
  entrypoint?: string[];
  /** The app's named volumes mounted into it: kept across releases, under the data root. */
  volumes?: { volume: string; path: string; read_only: boolean }[];
  /** It takes requests through the proxy (web, or a process a route goes to): activate switches
   *  its serving name to it. Web always does. */
  serves?: boolean;
  /** The shared services its app uses: only their containers join the app's network (none when absent). */
  services?: readonly ServiceName[];
}

/** An app's network and the shared services on it: those the app uses (an app's own Redis joins
 *  its network whatever this says; the proxy joins every app's). */
export interface AppNetwork { app: string; services: readonly ServiceName[] }
export const appNetworkOf = (spec: ProcessSpec): AppNetwork => ({ app: spec.app, services: spec.services ?? [] });

export interface Unit {
  id: string;
  name: string;
  app: string;
  release: string;
  process: ProcessType;
  /** 1 and up: the copies of one process of one release. */
  replica: number;
  running: boolean;
  /** Exited, and the runtime itself is bringing it back (a restart policy, a Swarm task): it
   *  keeps crashing if this stays true. Not for berth to restart on top. */
  restarting: boolean;
  exitCode: number | null;
  /** Has an address the proxy reaches: on its app's own network (or, on a platform not yet
   *  migrated, the shared one). */
  attached: boolean;
  /** The unit the app's serving name resolves to. */
  serving: boolean;
  /** It takes requests (ProcessSpec.serves): activate moves the serving name to it. */
  serves?: boolean;
  /** Exited because it passed its memory limit (only known for a unit that is not running). */
  oomKilled?: boolean;
}

/** Apps whose network was created or removed, and apps still served from the platform network
 *  (a platform from before per-app networks): a redeploy moves them, without a gap. */
export interface IsolationReport { created: string[]; stranded: string[]; removed: string[] }

export interface ImageInfo { id: string; digest: string | null }

export interface OomEvent { app: string; release: string; process: ProcessType; name: string; oneOff: boolean }

export type Progress = (line: string) => void;

export interface RegistryAuth { username: string; password: string; serveraddress: string }

/** Why an image could not be pulled. Only `offline` (no registry answers at all) is lasting
 *  enough to base a choice on; the others are a mistake to report or a moment to wait out. */
export type PullFailure = 'offline' | 'not_found' | 'unauthorized' | 'rate_limited' | 'timeout' | 'other';
export type PullCheck = { ok: true } | { ok: false; reason: PullFailure; message: string };

export interface HealthCheck { path: string; port: number; timeoutMs?: number }

export interface RunOptions {
  timeoutMs: number; signal?: AbortSignal;
  /** How many of the last lines of output come back (default 50). */
  outputLines?: number;
}

/** What exportDir copied: regular files and their bytes, and what it left out, with why. */
export interface ExportedDir { files: number; bytes: number; skipped: string[] }
/** A one-off container started for someone other than a deploy: `berth run` (run) or a cron
 *  job's run (cron). Release commands are one-offs too, but runOnce owns them from start to end. */
export type OneOffKind = 'run' | 'cron';
/** `key`: what the caller finds it by again (a cron run's id), kept as a label. */
export interface OneOffRef { id: string; name: string; app: string; kind: OneOffKind; key: string; running: boolean }
export interface OneOffOptions { kind: OneOffKind; key: string }
/** A one-off the caller talks to (`berth run -i/-t`): its stdin open (stdin), a terminal (tty)
 *  of that size. */
export interface AttachOptions { tty: boolean; stdin: boolean; rows?: number; cols?: number }
/** `io` carries the one-off's stdin (when asked) and its output: raw bytes with a terminal,
 *  else Docker's multiplexed frames (lib/frames.ts); it ends when the one-off exits. */
export interface Attached { ref: OneOffRef; io: Duplex; resize(rows: number, cols: number): Promise<void> }
export interface WaitOptions extends RunOptions {
  /** Called with its output as it comes, from its start (a waiter that comes back replays it). */
  onOutput?: (chunk: string) => void;
}

export interface Runtime {
  /** The engine's version; fails when the engine does not answer. */
  ping(): Promise<{ engine: string }>;
  /** Checks registry credentials with the registry itself. */
  checkAuth(auth: RegistryAuth): Promise<void>;
  /** The DNS name the proxy resolves to reach one copy of an app's serving process (copy 1 when
   *  not given): each copy of web has its own, which its release's copy of that number takes at
   *  the switch. */
  servingName(app: string, process: ProcessType, replica?: number): string;
  /** The platform's own network (the proxy, the shared services, berth's tasks). */
  ensureNetwork(): Promise<void>;
  /** Keeps each listed app on a network of its own, shared with the proxy and the shared
   *  services it uses and no other app (a service it does not use leaves it); says which apps are
   *  still served from the platform network; removes the networks of apps not listed that hold no
   *  app's units. Idempotent. */
  isolate(apps: AppNetwork[]): Promise<IsolationReport>;
  /** The app's own network, created when missing, with the proxy and the shared services it uses on it. */
  ensureAppNetwork(n: AppNetwork): Promise<void>;
  /** Removes an app's network, once its units are removed. */
  removeAppNetwork(app: string): Promise<void>;
  /** The local image a reference (or id) names now; null when absent. */
  imageInfo(ref: string): Promise<ImageInfo | null>;
  /** Returns the local image, pulling it first when it is missing; the signal cancels the pull. */
  ensureImage(ref: string, auth: RegistryAuth | undefined, progress: Progress, signal?: AbortSignal): Promise<ImageInfo>;
  /** Whether an image is present or can be pulled now, and if not, why. */
  pullable(ref: string, progress: Progress): Promise<PullCheck>;
  /** Starts a release's process beside whatever serves now, on its app's own network (created
   *  when missing); it gets no traffic yet. */
  start(spec: ProcessSpec): Promise<Unit>;
  /** One health probe of a unit: the HTTP status, or why there was none. The runtime knows
   *  where the unit answers (on Swarm a task's address is not reachable from the host). */
  probe(unit: Unit, check: HealthCheck): Promise<number | string>;
  /** The web process: makes this unit the one servingName (of its copy number) resolves to; the unit serving before
   *  keeps running. All or nothing: when it fails, whatever served before serves again before
   *  it returns. `between` runs mid-switch, once the name has left the unit serving before (crash
   *  and failure tests hold it there; a deploy's settle counts from it).
   *  The same for any process that serves (ProcessSpec.serves: a route goes to it).
   *  Any other process (a worker): it runs for good from now on (restarted when it fails, with
   *  the full CPU weight); nothing is renamed. */
  activate(unit: Unit, between?: () => Promise<void>): Promise<void>;
  /** Runs a command to completion in a one-off container of a release (migrations). */
  runOnce(spec: ProcessSpec, cmd: string[], opts: RunOptions): Promise<{ exitCode: number; output: string }>;
  /** Stops and removes every release command's and `run` one-off container, returning their
   *  names: a daemon that died while one ran left it running on, no longer waited for. Cron
   *  runs stay: the next daemon waits for them again (listOneOffs). */
  removeOneOffs(): Promise<string[]>;
  /** Creates and starts a one-off container of a release, labelled with its kind and key, and
   *  returns at once: it runs on until waitOneOff, even past the daemon that started it. */
  startOneOff(spec: ProcessSpec, cmd: string[], o: OneOffOptions): Promise<OneOffRef>;
  /** Waits for a one-off to exit (one that exited already answers at once), then removes it; also
   *  when out of time (code 'timeout') or cancelled (code 'aborted'): it never runs on unseen. */
  waitOneOff(ref: Pick<OneOffRef, 'id' | 'name'>, opts: WaitOptions): Promise<{ exitCode: number; output: string }>;
  /** Starts a `run` one-off attached to its caller (its first output included); waited for like
   *  any one-off, by waitOneOff. */
  startAttached(spec: ProcessSpec, cmd: string[], o: OneOffOptions & AttachOptions): Promise<Attached>;
  /** The one-offs of a kind that exist now, running or exited. */
  listOneOffs(kind: OneOffKind): Promise<OneOffRef[]>;
  inspect(app: string, process: ProcessType, release: string): Promise<Unit | null>;
  list(app?: string): Promise<Unit[]>;
  /** Stops a unit (SIGTERM, then SIGKILL after graceMs) and keeps the runtime from restarting it. */
  stop(unit: Unit, graceMs: number): Promise<void>;
  /** Removes a unit; one already gone is not an error. */
  remove(unit: Unit): Promise<void>;
  /** Logs of an app's unit, or of any container berth runs (a shared service): by id or name. */
  logs(unit: Pick<Unit, 'id' | 'name'>, tail: number): Promise<string>;
  followLogs(unit: Pick<Unit, 'id' | 'name'>, tail: number, onLine: (chunk: string) => void, signal: AbortSignal): Promise<void>;
  removeImage(id: string): Promise<void>;
  /** Writes an image (by reference: its tag comes along) to a file another engine can load (0600). */
  saveImage(ref: string, file: string): Promise<void>;
  /** Copies a directory of an image (e.g. /app/dist) into dest (created when missing), without
   *  running the image. Nothing lands outside dest: symlinks that point outside it, and files
   *  that are neither regular files, directories nor links, are left out (in `skipped`). */
  exportDir(image: string, path: string, dest: string): Promise<ExportedDir>;
  /** Calls onOom each time an app's process is killed for passing its memory limit, until the
   *  signal aborts or the engine's event stream ends (the caller watches again). */
  watchOom(onOom: (u: OomEvent) => void, signal: AbortSignal): Promise<void>;
  /** The shared services' containers. */
  services: ServiceRuntime;
  /** Builds an app's image from a source directory (berth deploy --build), into this runtime's images. */
  builder: Builder;
}

/** Where a service's container runs besides its usual place (`<instance>-SERVICE`, data under
 *  services/SERVICE): 'garage' is the Garage that `berth services move s3` brings up beside a
 *  bundled MinIO (`<instance>-s3-garage`, data under services/s3-garage), and keeps using after. */
export type ServiceSlot = 'garage';

export interface ServiceRun {
  service: ServiceName;
  slot?: ServiceSlot;
  /** An image to run as it is (a bundled MinIO); otherwise the runtime's own build of the service. */
  image?: string;
  adminPassword: string;
  minio?: { rootUser: string };
  /** Redis: its maxmemory (shared by every app) and what it does when full */
  redis?: RedisMemory;
  /** A bundled Garage: its node's RPC secret (adminPassword is its root admin token). */
  garage?: { rpcSecret: string };
  /** PostgreSQL: its WAL archived continuously (pgBackRest), its repository encrypted with this pass. */
  archive?: { cipherPass: string };
  /** The apps that use it: a container created anew joins their networks at once (no other app's). */
  apps?: readonly string[];
}
/** floorMb: the least the container may use (256 MB for the shared Redis, by default) */
export interface RedisMemory { maxmemoryMb: number; policy: string; floorMb?: number }

export interface ServiceState { state: string; health: string | null; image: string | null }

export interface ServiceRuntime {
  /** Where an app's processes reach the service: a name they resolve, and its port. Every call
   *  takes the service's slot where it has one (a moved object store). */
  endpoint(s: ServiceName, slot?: ServiceSlot): { host: string; port: number };
  /** Brings the service's container up (building the image it needs where missing; replacing a
   *  container whose spec changed, said through progress); returns where berth reaches it. */
  ensure(run: ServiceRun, progress: Progress): Promise<{ result: string; address: string }>;
  /** Where berth, on this host, reaches the running service now; null when it is not running. */
  address(s: ServiceName, slot?: ServiceSlot): Promise<string | null>;
  state(s: ServiceName, slot?: ServiceSlot): Promise<ServiceState | null>;
  /** Removes the service's container (its data stays); one already gone is not an error. */
  remove(s: ServiceName, slot?: ServiceSlot): Promise<void>;
  /** Removes the service's container, its data directory and its secret files, for good (an old
   *  object store the operator is done with); what is already gone is not an error. Returns what went. */
  purge(s: ServiceName, slot?: ServiceSlot): Promise<string[]>;
  logsRef(s: ServiceName, slot?: ServiceSlot): Pick<Unit, 'id' | 'name'>;
  /** The host directory that holds the service's data, for its size. */
  dataDir(s: ServiceName, slot?: ServiceSlot): string;
  /** A Redis for one app alone (`apps create --redis dedicated`): its own container, data and
   *  memory limit; `address` is where berth reaches it now (null when it is not running). */
  dedicatedRedis: {
    ensure(app: string, adminPassword: string, memory: RedisMemory, progress: Progress): Promise<{ result: string; address: string }>;
    address(app: string): Promise<string | null>;
    endpoint(app: string): { host: string; port: number };
    /** Removes its container, and with `data` its data directory; one already gone is not an error. */
    remove(app: string, opts: { data: boolean }): Promise<void>;
  };
  /** A one-off task in the service's image (pg_dump for a purge), attached to the platform
   *  network. Secrets go in files (`secretFiles`: name -> content, mounted read-only under
   *  /run/secrets/berth), never in the env; `outputDir` on the host is mounted at /out. */
  task(image: TaskImage, t: TaskSpec, opts: RunOptions): Promise<{ exitCode: number; output: string }>;
  /** PostgreSQL's continuous archive, for point-in-time recovery. */
  archive: PgArchiveRuntime;
}

/** `network`: another network than the platform's (the scratch server of a point-in-time restore). */
export interface TaskSpec {
  name: string; cmd: string[]; env?: Record<string, string>; secretFiles?: Record<string, string>; outputDir: string; network?: string;
}

/** The shared PostgreSQL's WAL archive and base backups (pgBackRest, stanza `berth`). */
export interface PgArchiveRuntime {
  /** Runs a program beside the running server, as its user, with the administrator's password
   *  for its logins: `pgbackrest CMD` (its config and the stanza found by itself), or psql. */
  exec(cmd: string[], o: RunOptions & { password: string }): Promise<{ exitCode: number; output: string }>;
  /** Restores the archive as it was at `at` into a scratch server on a network of its own (no app
   *  is on it), waits until it has recovered to that instant, and runs fn while it serves (a task
   *  joins `network` to reach it at host:port). Removed, data and network, however fn ends. */
  atTime<T>(o: { at: Date; db: string }, fn: (s: { network: string; host: string; port: number }) => Promise<T>,
    opts: RunOptions & { progress?: Progress }): Promise<T>;
  /** Removes what a restore to an instant cut short left (the daemon died in it): scratch servers,
   *  their networks and data. Returns what went. */
  sweep(): Promise<string[]>;
}

/** What a task runs in: a service's image, or pg-tools (PostgreSQL's client programs and age,
 *  for backups: runtime/docker/pg-tools.sh). */
export type TaskImage = ServiceName | 'pg-tools';

/** Where a service task finds its secret files and its output directory. */
export const TASK_SECRETS_DIR = '/run/secrets/berth';
export const TASK_OUTPUT_DIR = '/out';
