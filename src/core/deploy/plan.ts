// Plan, then apply: a pure function turns what runs now and what should run into the list of
// steps a deploy or rollback takes. The executor runs them and journals each one; --dry-run
// prints them.
import { quoteWords } from '../../lib/shell-words.js';

export interface ReleaseView {
  id: number;
  seq: number;
  state: 'pending' | 'live' | 'warm' | 'stopped' | 'failed' | 'pruned';
  port: number;
  image_id: string | null;
}

export type Step =
  | { kind: 'pull'; image: string }
  | { kind: 'release_command'; cmd: string[] }
  | { kind: 'static'; release: number; root: string }
  | { kind: 'start'; release: number; copies?: number }
  | { kind: 'start_workers'; release: number; workers: WorkerCount[] }
  | { kind: 'health'; release: number; path: string; port: number; timeoutMs: number; copies?: number }
  | { kind: 'check_workers'; release: number; upMs: number }
  | { kind: 'route'; reason: string }
  | { kind: 'switch'; from: number | null; to: number }
  | { kind: 'settle'; ms: number }
  | { kind: 'stop_workers'; release: number }
  | { kind: 'retire'; releases: number[] }
  | { kind: 'prune'; releases: number[] };

export interface WorkerCount { process: string; replicas: number }

export interface PlanInput {
  kind: 'deploy' | 'rollback' | 'config';
  target: ReleaseView & { image: string; health_path: string };
  live: ReleaseView | null;
  /** Every release of the app, newest first. */
  releases: ReleaseView[];
  /** The target's web container is already running (a warm release). */
  targetRunning: boolean;
  releaseCommand?: string[];
  /** Copies of the serving process (`berth scale APP web=3`); 1 when absent. */
  copies?: number;
  /** The target's processes besides web, with their copies (none at 0: scaled to zero). */
  workers?: WorkerCount[];
  /** The live release runs processes besides web: they stop once the target serves. */
  liveHasWorkers?: boolean;
  /** How long a new worker must stay up before it counts as started. */
  workerUpMs?: number;
  /** The release has a serving process to start, health-check and switch (false: an app that is
   *  a static site with workers, or an upstream outside berth). */
  primary?: boolean;
  /** The target serves a static site from this directory of an image. */
  siteRoot?: string;
  /** Why the target's proxy route differs from the live one's beyond its port (its routing table). */
  routeChange?: string;
  deployTimeoutMs: number;
  refreshMs: number;
  keepReleases: number;
}

export function planDeploy(i: PlanInput): Step[] {
  const steps: Step[] = [];
  const primary = i.primary ?? true;
  const workers = (i.workers ?? []).filter((w) => w.replicas > 0);
  if (!i.targetRunning) {
    if (primary || workers.length) steps.push({ kind: 'pull', image: i.target.image });
    if (i.releaseCommand?.length) steps.push({ kind: 'release_command', cmd: i.releaseCommand });
    if (primary) steps.push({ kind: 'start', release: i.target.id, ...copies(i) });
  }
  // the site's files are copied out of their image beside the live ones (kept: a rollback finds them there)
  if (i.siteRoot) steps.push({ kind: 'static', release: i.target.id, root: i.siteRoot });
  // Workers start beside the web process and boot while its health check runs; a rollback's
  // warm release kept only its web process running, so its workers start afresh too.
  if (workers.length) steps.push({ kind: 'start_workers', release: i.target.id, workers });
  // every copy passes before any switches; a warm release (a rollback) starts the copies it lacks first
  if (primary) steps.push({ kind: 'health', release: i.target.id, path: i.target.health_path, port: i.target.port, timeoutMs: i.deployTimeoutMs,
    ...copies(i) });
  if (workers.length) steps.push({ kind: 'check_workers', release: i.target.id, upMs: i.workerUpMs ?? 2000 });
  if (!i.live) steps.push({ kind: 'route', reason: 'first release: check that the route points at the app (and its port)' });
  else if (i.live.port !== i.target.port) steps.push({ kind: 'route', reason: `port changes from ${i.live.port} to ${i.target.port}` });
  else if (i.routeChange) steps.push({ kind: 'route', reason: i.routeChange });
  steps.push({ kind: 'switch', from: i.live?.id ?? null, to: i.target.id });
  // A lookup that began just before the switch is cached for one refresh: wait that out.
  if (i.live) steps.push({ kind: 'settle', ms: i.refreshMs + 15 });
  // Only now do the release before's workers go (SIGTERM, then their grace period to finish
  // the job in hand): until the switch, a failure leaves them working as they were.
  if (i.live && i.liveHasWorkers && i.live.id !== i.target.id) steps.push({ kind: 'stop_workers', release: i.live.id });
  // The release replaced now stays warm; any older warm one is retired.
  const retire = i.releases.filter((r) => r.state === 'warm' && r.id !== i.target.id && r.id !== i.live?.id).map((r) => r.id);
  if (retire.length) steps.push({ kind: 'retire', releases: retire });
  const prune = pruneCandidates(i);
  if (prune.length) steps.push({ kind: 'prune', releases: prune });
  return steps;
}

const copies = (i: PlanInput) => ((i.copies ?? 1) > 1 ? { copies: i.copies } : {});

/** Releases past the newest `keepReleases` whose images can go; never the target or the live one. */
export function pruneCandidates(i: Pick<PlanInput, 'releases' | 'keepReleases' | 'target' | 'live'>): number[] {
  const keep = new Set(i.releases.slice(0, i.keepReleases).map((r) => r.id));
  keep.add(i.target.id);
  if (i.live) keep.add(i.live.id);
  return i.releases.filter((r) => !keep.has(r.id) && r.state !== 'pruned').map((r) => r.id);
}

/** Names releases the way every other output does (v7): steps hold the releases' row ids, which
 *  count across all apps and mean nothing to the operator. */
export function releaseNamer(i: Pick<PlanInput, 'releases' | 'target' | 'live'>): (id: number) => string {
  const seqs = new Map([...i.releases, ...(i.live ? [i.live] : []), i.target].map((r) => [r.id, r.seq] as const));
  return (id) => (seqs.has(id) ? `v${seqs.get(id)}` : `#${id}`);
}

export function describeStep(s: Step, name: (id: number) => string): string {
  const names = (ids: number[]) => ids.map(name).join(', ');
  switch (s.kind) {
    case 'pull': return `pull ${s.image} (if missing)`;
    case 'release_command': return `run release command: ${quoteWords(s.cmd)}`;
    case 'static': return `copy ${name(s.release)}'s static site (${s.root} of its image) beside the live one`;
    case 'start': return `start release ${name(s.release)}${s.copies ? ` (${s.copies} copies)` : ''} beside the live one`;
    case 'start_workers': return `start ${name(s.release)}'s ${s.workers.map((w) => (w.replicas > 1 ? `${w.process} x${w.replicas}` : w.process)).join(', ')}`;
    case 'check_workers': return `check that ${name(s.release)}'s other processes stay up (${s.upMs} ms at least)`;
    case 'stop_workers': return `stop ${name(s.release)}'s other processes (SIGTERM, then their grace period)`;
    case 'health':
      return `wait until GET ${s.path} on port ${s.port} answers 2xx${s.copies ? ` on all ${s.copies} copies` : ''} (timeout ${s.timeoutMs / 1000}s)`;
    case 'route': return `update the proxy route: ${s.reason}`;
    case 'switch': return s.from ? `switch traffic from release ${name(s.from)} to ${name(s.to)}` : `send traffic to release ${name(s.to)}`;
    case 'settle': return `wait until ${s.ms} ms after the release before lost its name, so that the proxy resolves the new one`;
    case 'retire': return `end the warm window of older releases ${names(s.releases)} (stopped right after)`;
    case 'prune': return `prune releases ${names(s.releases)}`;
  }
}
