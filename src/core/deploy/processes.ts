// The processes of a release, as data kept with it: `web`, which the proxy routes to, and any
// number of others (workers: a queue consumer, a scheduler), each with its command and grace
// period. A release keeps them as they were, so a rollback brings back every process of its
// time. How many copies run is the app's formation (`berth scale`), not the release's. Pure.
import { BerthError, ValidationError } from '../../lib/errors.js';
export { processName } from '../../lib/validate.js';
import { effectiveLimits, type Limits } from '../../lib/limits.js';
import { type ProcessType, WEB } from '../../runtime/types.js';
import type { ReleaseRow } from '../../state/store.js';

export interface ProcessEntry {
  /** Its command (argv); the image's own when absent (web's usual case). */
  cmd?: string[];
  /** Replaces the image's ENTRYPOINT (from berth.yml or compose). */
  entrypoint?: string[];
  /** Its own image (reference or id), where it does not run the release's. */
  image?: string;
  /** The port it listens on, where it takes requests (a route goes to it); the release's for web. */
  port?: number;
  health?: { path: string; interval_ms: number; timeout_ms: number };
  /** Its env from berth.yml (not secrets, yet kept encrypted as all env is), under the app's config. */
  env?: string;
  volumes?: { volume: string; path: string; read_only: boolean }[];
  /** The process the release's image, port and health check are: set where it is not web. */
  primary?: true;
  /** A route sends requests to it: it switches by name with the release, like web. */
  routed?: true;
  /** How long a stopping copy may finish its work after SIGTERM. */
  stop_grace_ms?: number;
  limits?: Partial<Limits>;
}
export type ProcessTable = Record<ProcessType, ProcessEntry>;

/** What a deploy asks for the processes besides web: a command each; null takes one away. */
export type ProcessRequest = Record<ProcessType, { cmd: string[]; stop_grace_ms?: number } | null>;

/** Copies per process (`berth scale`); 1 for a process it does not name. */
export type Formation = Record<ProcessType, number>;

export const MAX_REPLICAS = 20;

export const processTable = (r: Pick<ReleaseRow, 'processes'>): ProcessTable => JSON.parse(r.processes) as ProcessTable;

/** The process types a release runs. */
export const processesOf = (r: Pick<ReleaseRow, 'processes'>): ProcessType[] => Object.keys(processTable(r));

/** Its processes other than the serving one, in a stable order. */
export const workersOf = (r: Pick<ReleaseRow, 'processes'>): ProcessType[] => {
  const serving = primaryOf(r);
  return processesOf(r).filter((p) => p !== serving).sort();
};

/** The serving process, or null for a release without one (an app that is a static site or an upstream). */
export function primaryOf(r: Pick<ReleaseRow, 'processes'>): ProcessType | null {
  const t = processTable(r);
  if (t[WEB]) return WEB;
  return Object.keys(t).find((p) => t[p]!.primary) ?? null;
}

/** The process of a release that the deploy starts first, health-checks and switches: `web`,
 *  or the one a description routes the most requests to. */
export function servingProcess(r: Pick<ReleaseRow, 'processes'>): ProcessType {
  const p = primaryOf(r);
  if (!p) throw new BerthError('internal', `release has no serving process (${processesOf(r).join(', ') || 'none'})`);
  return p;
}


/** The limits a release's process runs with (set when the release was made). */
export const limitsOf = (r: Pick<ReleaseRow, 'processes'>, process: ProcessType): Limits =>
  effectiveLimits(processTable(r)[process]?.limits ?? {});

export const commandOf = (r: Pick<ReleaseRow, 'processes'>, process: ProcessType): string[] | undefined => processTable(r)[process]?.cmd;

export const graceOf = (r: Pick<ReleaseRow, 'processes'>, process: ProcessType, fallbackMs: number): number =>
  processTable(r)[process]?.stop_grace_ms ?? fallbackMs;

export const replicasOf = (formation: Formation, process: ProcessType): number => formation[process] ?? 1;

export const entryOf = (r: Pick<ReleaseRow, 'processes'>, process: ProcessType): ProcessEntry => processTable(r)[process] ?? {};

/** The processes of a new release: those of the release before (or web alone) changed by the
 *  request, each with the app's limits as they are now. */
export function releaseProcesses(live: Pick<ReleaseRow, 'processes'> | null, appLimits: string, request?: ProcessRequest): string {
  const table: ProcessTable = { ...(live ? processTable(live) : { [WEB]: {} }) };
  for (const [name, want] of Object.entries(request ?? {})) {
    if (name === WEB) {
      throw new ValidationError('processes.web', 'is the image\'s own command; give other processes here', 'e.g. --process worker="node worker.js"');
    }
    if (want === null) delete table[name];
    else table[name] = { cmd: want.cmd, ...(want.stop_grace_ms === undefined ? {} : { stop_grace_ms: want.stop_grace_ms }) };
  }
  const limits = effectiveLimits(JSON.parse(appLimits) as Partial<Limits>);
  return JSON.stringify(Object.fromEntries(Object.entries(table).map(([name, p]) => [name, { ...p, limits }])));
}

/** Checks a scale request against the live release (pure): known processes, a sane count, the
 *  serving process at one copy at least, a process a route goes to (beside it) at one. */
export function checkScale(live: Pick<ReleaseRow, 'processes'> | null, app: string, want: Formation): Formation {
  if (!live) throw new BerthError('conflict', `${app} has no live release to scale`, `deploy it first: berth deploy ${app} --image REF`);
  const known = processesOf(live);
  for (const [p, n] of Object.entries(want)) {
    if (!known.includes(p)) {
      throw new ValidationError(p, `is not a process of ${app}'s live release (it runs ${known.join(', ')})`,
        `add it at a deploy: berth deploy ${app} --process ${p}=CMD`);
    }
    if (!Number.isInteger(n) || n < 0 || n > MAX_REPLICAS) throw new ValidationError(p, `copies must be a whole number from 0 to ${MAX_REPLICAS}`);
    if (p === primaryOf(live) && n < 1) {
      throw new ValidationError(p, 'serves the app\'s requests: it runs one copy at least',
        `stop the app instead, or scale another process: berth scale ${app} worker=0`);
    }
    if (p !== primaryOf(live) && processTable(live)[p]!.routed && n !== 1) {
      throw new ValidationError(p, 'runs one copy: a route goes to it, and balancing across copies is built for the serving process only',
        `scale the serving process: berth scale ${app} ${primaryOf(live) ?? WEB}=3`);
    }
  }
  return want;
}

/** How a release's processes read in listings: "web, worker x2". */
export function describeProcesses(r: Pick<ReleaseRow, 'processes'>, formation: Formation): string {
  return [primaryOf(r), ...workersOf(r)].filter((p): p is ProcessType => p !== null)
    .map((p) => (replicasOf(formation, p) === 1 ? p : `${p} x${replicasOf(formation, p)}`)).join(', ');
}
