// CPU time, from /proc: who spends the machine's two cores while a benchmark runs. Read before
// and after a window; the difference in seconds, by party.
import { readdirSync, readFileSync } from 'node:fs';
import { docker, type Platform } from '../../test/helpers/platform.js';
import { round } from './common.js';

export const CLK_TCK = 100; // getconf CLK_TCK on Linux

/** A process's CPU ticks: its own (utime + stime) and, with `children`, those of its children
 *  it has waited for (cutime + cstime); 0 for a process that is gone. */
export function cpuTicks(pid: number, children = false): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ESRCH') return 0;
    throw e;
  }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
  return Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0); // fields 14 to 17
}

/** The pids whose command name (comm) is one of these. */
function pidsNamed(names: string[]): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try { return names.includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()); } catch { return false; } // gone meanwhile
  });
}

export interface CpuSample { cli: number; daemon: number; proxy: number; engine: Map<number, number> }

/** CPU seconds so far of: the CLIs this process ran (children waited for: the load runs in a
 *  process that is still running, so it is not in there), the daemon, Caddy (its container's
 *  process) and the engine's processes (dockerd, containerd and the shims, each with the
 *  children it reaped: runc). */
export async function cpuSample(p: Platform): Promise<CpuSample> {
  const proxy = await docker.listContainers({ filters: { label: [`berth.instance=${p.instance}`, 'berth.role=proxy'] } });
  const caddyPid = proxy[0] ? (await docker.getContainer(proxy[0].Id).inspect()).State.Pid : 0;
  const engine = pidsNamed(['dockerd', 'containerd', 'containerd-shim', 'containerd-shim-runc-v2']);
  const s = (ticks: number) => ticks / CLK_TCK;
  return {
    cli: s(cpuTicks(process.pid, true) - cpuTicks(process.pid)),
    daemon: s(cpuTicks(p.daemonPid() ?? 0)),
    proxy: s(caddyPid ? cpuTicks(caddyPid) : 0),
    engine: new Map(engine.map((pid) => [pid, s(cpuTicks(pid, true))])),
  };
}

export interface CpuSpent { cli: number; daemon: number; proxy: number; engine: number }

/** What each party spent between two samples, in seconds. The engine's is a floor: a shim that
 *  ended with its container between the two took its time with it. */
export function cpuSpent(a: CpuSample, b: CpuSample): CpuSpent {
  const engine = [...b.engine].reduce((sum, [pid, t]) => sum + t - (a.engine.get(pid) ?? 0), 0);
  return { cli: round(b.cli - a.cli, 2), daemon: round(b.daemon - a.daemon, 2), proxy: round(b.proxy - a.proxy, 2), engine: round(engine, 2) };
}
