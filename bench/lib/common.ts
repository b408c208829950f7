// Shared plumbing of the benchmarks: progress on stderr, one JSON result line on stdout,
// argument parsing, timing of CLI commands, and a platform that is always destroyed.
import { copyFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from '../../test/helpers/load.js';
import { docker, ensureSample, Platform, type Run } from '../../test/helpers/platform.js';

let benchName = 'bench';
const started = Date.now();

export function log(msg: string): void {
  process.stderr.write(`[${benchName} +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
}

/** --name value, or --name=value, from the arguments after the benchmark's name. */
export function arg(name: string, fallback: string): string {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}` && argv[i + 1] !== undefined) return argv[i + 1]!;
    if (argv[i]!.startsWith(`--${name}=`)) return argv[i]!.slice(name.length + 3);
  }
  return fallback;
}

export function numArg(name: string, fallback: number): number {
  const v = Number(arg(name, String(fallback)));
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number`);
  return v;
}

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
export const median = (xs: number[]) => percentile(xs, 50);

export function stats(xs: number[]) {
  return { n: xs.length, p50_ms: round(percentile(xs, 50)), p99_ms: round(percentile(xs, 99)), max_ms: round(xs.reduce((a, b) => (b > a ? b : a), 0)) };
}

const live = new Set<Platform>();
let cleaning: Promise<void> | null = null;
async function cleanupAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.destroy().catch(() => undefined)));
  live.clear();
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (cleaning) return;
    log(`${sig}: removing the benchmark's platforms`);
    cleaning = cleanupAll().finally(() => process.exit(130));
  });
}

/** A fresh platform (berth up + the sample image) for the duration of fn; always destroyed. */
export async function withPlatform<T>(fn: (p: Platform) => Promise<T>, upArgs: string[] = []): Promise<T> {
  const p = new Platform();
  live.add(p);
  try {
    log(`berth up: root ${p.root}, instance ${p.instance}, https port ${p.httpsPort}`);
    await p.up(upArgs);
    await ensureSample(p);
    return await fn(p);
  } catch (e) {
    // Keep the daemon's log for the post-mortem: the platform's root goes with it.
    const keep = join(tmpdir(), `berth-bench-${p.instance}-daemon.log`);
    try { copyFileSync(join(p.root, 'logs', 'daemon.log'), keep); log(`daemon log kept at ${keep}`); } catch { /* no log */ }
    throw e;
  } finally {
    log(`destroying platform ${p.instance}`);
    await p.destroy().catch((e) => log(`destroy failed: ${String(e)}`));
    live.delete(p);
  }
}

export interface Timed extends Run { ms: number; steps: Record<string, number>; details: Record<string, string> }

/** Runs berth, failing unless it exits 0; returns its wall time and the per-step ms of its progress lines. */
export async function timed(p: Platform, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Timed> {
  const t0 = performance.now();
  const r = await p.berth(args, opts);
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return { ...r, ms, ...parseSteps(r.stderr) };
}

/** "  ✓ health (2103 ms): healthy after 2051 ms" → steps.health = 2103, details.health = "healthy after 2051 ms" */
export function parseSteps(stderr: string): { steps: Record<string, number>; details: Record<string, string> } {
  const steps: Record<string, number> = {};
  const details: Record<string, string> = {};
  for (const m of stderr.matchAll(/✓ (\w+) \((\d+) ms\)(?:: (.*))?/g)) {
    steps[m[1]!] = (steps[m[1]!] ?? 0) + Number(m[2]);
    if (m[3]) details[m[1]!] = m[3];
  }
  return { steps, details };
}

/** The daemon's own log lines (pino JSON) with msg === what. */
export function daemonLog(p: Platform, what: string): Record<string, any>[] {
  try {
    return readFileSync(join(p.root, 'logs', 'daemon.log'), 'utf8').split('\n').filter(Boolean)
      .flatMap((l) => { try { return [JSON.parse(l) as Record<string, any>]; } catch { return []; } })
      .filter((l) => l.msg === what);
  } catch { return []; }
}

/** Runs the benchmark: its result object becomes the last line of stdout. */
export function main(name: string, fn: () => Promise<Record<string, unknown>>): void {
  benchName = name;
  fn().then((r) => {
    process.stdout.write(JSON.stringify({ bench: name, ...r }) + '\n');
    process.exit(0);
  }, (e) => {
    log(`FAILED: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    process.stdout.write(JSON.stringify({ bench: name, error: e instanceof Error ? e.message.split('\n')[0] : String(e) }) + '\n');
    process.exit(1);
  });
}

/** Resident memory of a process, from /proc. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return round(Number(m[1]) / 1024, 1);
}

/** Resident memory of a process's children (e.g. the daemon's services worker), in MB; 0 when none. */
export function childrenRssMb(pid: number): number {
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return round(kids.reduce((sum, k) => { try { return sum + rssMb(k); } catch { return sum; } }, 0), 1);
}

/** Memory in use (page cache excluded) of the platform's containers with a label, in MB. */
export async function containerMemMb(p: Platform, label: string): Promise<number[]> {
  return Object.values(await containerMemByName(p, label));
}

/** Each matching container's memory (usage less inactive file pages, as docker stats shows), by name. */
export async function containerMemByName(p: Platform, label: string): Promise<Record<string, number>> {
  const cs = await docker.listContainers({ filters: { label: [`berth.instance=${p.instance}`, label] } });
  return Object.fromEntries(await Promise.all(cs.map(async (c) => {
    const s = await docker.getContainer(c.Id).stats({ stream: false }) as unknown as { memory_stats: { usage?: number; stats?: { inactive_file?: number; total_inactive_file?: number } } };
    const inactive = s.memory_stats.stats?.total_inactive_file ?? s.memory_stats.stats?.inactive_file ?? 0;
    return [c.Names[0]!.replace(`/${p.instance}-`, ''), round(((s.memory_stats.usage ?? 0) - inactive) / 1048576, 1)] as const;
  })));
}

/** Deploys with rollbacks spread evenly among them (10 and 5: D D R five times). */
export function opsPattern(deploys: number, rollbacks: number): ('deploy' | 'rollback')[] {
  const ops: ('deploy' | 'rollback')[] = [];
  const every = rollbacks ? Math.max(1, Math.ceil(deploys / rollbacks)) : Infinity;
  let r = 0;
  for (let d = 1; d <= deploys; d++) {
    ops.push('deploy');
    if (d % every === 0 && r < rollbacks) { ops.push('rollback'); r++; }
  }
  while (r++ < rollbacks) ops.push('rollback');
  return ops;
}
