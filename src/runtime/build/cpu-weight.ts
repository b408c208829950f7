// A build must not starve the apps that serve. BuildKit runs inside dockerd, and the Engine 20.10
// it ships with ignores a build's --cgroup-parent, but it runs every RUN step in one cgroup under
// the engine's own, <parent>/buildkit/<step> (measured: /docker/buildkit on cgroupfs). Giving that
// cgroup a low CPU weight makes every step yield to the apps (each at 1024) while using whatever
// CPU they leave idle. Exporting the image is dockerd's own work and keeps its weight.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The CPU weight of builds in cgroup v1 shares (the serving apps run at 1024, a starting one at 256). */
export const BUILD_CPU_SHARES = 64;

export interface EngineCgroups { CgroupDriver?: string; CgroupVersion?: string }
export type WeightPlan = { ok: true; dir: string; file: string; value: string } | { ok: false; reason: string };

/** cgroup v2's cpu.weight for a v1 share count, as runc converts it (pure). */
export const sharesToWeight = (shares: number) => Math.floor(1 + ((shares - 2) * 9999) / 262142);

/** Where the engine's BuildKit runs its steps, and what to write there (pure). */
export function buildkitWeightPlan(engine: EngineCgroups, shares = BUILD_CPU_SHARES, root = '/sys/fs/cgroup'): WeightPlan {
  if (engine.CgroupDriver !== 'cgroupfs') {
    return { ok: false, reason: `the engine's cgroup driver is ${engine.CgroupDriver ?? 'unknown'}: BuildKit's steps get no common cgroup to weigh` };
  }
  if (engine.CgroupVersion === '2') return { ok: true, dir: join(root, 'docker', 'buildkit'), file: 'cpu.weight', value: String(sharesToWeight(shares)) };
  return { ok: true, dir: join(root, 'cpu', 'docker', 'buildkit'), file: 'cpu.shares', value: String(shares) };
}

/** Applies the plan (creating the cgroup before BuildKit's first step does); returns what it did. */
export function applyWeight(plan: WeightPlan): string {
  if (!plan.ok) return `build CPU weight not lowered: ${plan.reason}`;
  const file = join(plan.dir, plan.file);
  try {
    if (!existsSync(plan.dir)) mkdirSync(plan.dir, { recursive: true });
    if (readFileSync(file, 'utf8').trim() !== plan.value) writeFileSync(file, plan.value);
    return `build steps run at CPU weight ${plan.value} (${file}; serving apps: 1024)`;
  } catch (e) {
    // a read-only /sys (berth itself in a container) or no cpu controller: the build still runs
    return `build CPU weight not lowered: cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
}
