// Everything the core needs, passed explicitly: state, secrets, the runtime, the proxy, and the
// in-memory state of this daemon (locks, apps being deleted, where the services answer).
import type { Logger } from '../lib/log.js';
import type { Cipher } from '../lib/secrets.js';
import type { JobRunner } from '../provisioning/run-worker.js';
import type { Proxy } from '../proxy/types.js';
import type { Runtime } from '../runtime/types.js';
import type { Paths } from '../state/paths.js';
import type { ServiceName, Settings } from '../state/settings.js';
import type { Store } from '../state/store.js';
import { AppLocks } from './deploy/lock.js';
import type { CronScheduler } from './cron/scheduler.js';
import type { BackupScheduler } from './backups/scheduler.js';

export interface Hooks {
  /** Pause before this step, or each of these steps (comma-separated) (test hook). */
  pauseAt?: string;
  /** Called when a pause begins, e.g. to write a marker file. */
  onPause?: (step: string) => void;
  /** When set, a pause ends when this resolves (failure tests change things meanwhile);
   *  otherwise it lasts forever (crash tests kill the daemon there). */
  resume?: () => Promise<void>;
  /** The copy of a move of object storage fails once it copied this many objects (test hook). */
  copyFailAfter?: number;
  /** Called when a deploy or rollback lets go of its app's lock (the daemon retires releases then). */
  afterDeploy?: () => void;
}

/** A release the reconcile had to restart: it backs off one that keeps going down. */
export interface Restarts { release: number; count: number; nextAt: number; lastError: string | null }

export interface Ctx {
  store: Store;
  cipher: Cipher;
  runtime: Runtime;
  proxy: Proxy;
  settings: Settings;
  paths: Paths;
  log: Logger;
  /** Identifies this daemon process; locks from another boot are stale. */
  boot: string;
  hooks: Hooks;
  /** Runs provisioning jobs in the shared services (a worker process). */
  jobs: JobRunner;
  locks: AppLocks;
  /** Apps whose deletion has taken their route away: a reconcile must not bring it back. */
  leaving: Set<string>;
  /** Where berth reaches each running service container (refreshed by locateServices). */
  serviceAddresses: Map<ServiceName, string>;
  /** Provisioning runs one job at a time (see provisionApp). */
  provisioning: { tail: Promise<unknown> };
  /** Per app: the live release the reconcile restarted, and when it may try again. */
  restarts: Map<string, Restarts>;
  /** Per app: its serving copies' failed health probes in a row (unit id -> count), and when it was last checked (copy-health.ts). */
  copyHealth: { fails: Map<string, Map<string, number>>; checkedAt: Map<string, number> };
  /** Workers stopping in their grace period (ids): the reconcile leaves them to finish. */
  draining: Set<string>;
  /** Apps a backup task runs for (one at a time per app: core/backups/backups.ts). */
  backingUp: Set<string>;
  /** The WAL archive's base backup going on (one at a time: core/backups/pitr.ts). */
  archiveBase?: Promise<unknown>;
  /** The WAL archive as last seen (pitr.ts, every few minutes): its newest base backup, a failing archiver. */
  archiveHealth?: { lastBase: string | null; failing: { at: string; wal: string } | null };
  /** A restore to an instant going on (one at a time: pitr.ts). */
  pitrRestoring?: boolean;
  /** The WAL archive's copy to the targets: going on, and when the daemon's pass last started one. */
  pushingArchive?: boolean;
  archivePushedAt?: number;
  /** Apps whose credentials are being rotated (never two rotations of one app at once). */
  rotating: Set<string>;
  /** A move of object storage going on (one at a time: shared-services/move.ts). */
  movingObjectStore?: boolean;
  /** The daemon's cron (absent in a core that schedules nothing: unit tests, tools). */
  cron?: CronScheduler;
  /** The daemon's backup schedule (absent likewise). */
  backups?: BackupScheduler;
}

export type CtxParts = Pick<Ctx, 'store' | 'cipher' | 'runtime' | 'proxy' | 'settings' | 'paths' | 'log' | 'boot' | 'hooks' | 'jobs'>;

export function newCtx(p: CtxParts): Ctx {
  return {
    ...p, locks: new AppLocks(p.store, p.boot, p.log), leaving: new Set(), serviceAddresses: new Map(),
    provisioning: { tail: Promise.resolve() }, restarts: new Map(),
    copyHealth: { fails: new Map(), checkedAt: new Map() }, rotating: new Set(), backingUp: new Set(), draining: new Set(),
  };
}

export async function pauseIfHooked(ctx: Ctx, step: string): Promise<void> {
  if (!ctx.hooks.pauseAt?.split(',').includes(step)) return;
  ctx.log.warn({ step }, 'test hook: pausing');
  ctx.hooks.onPause?.(step);
  await (ctx.hooks.resume?.() ?? new Promise(() => { /* never resolves: the test kills the daemon here */ }));
}
