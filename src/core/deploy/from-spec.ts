// From an app's description (berth.yml, compose) to what a release is made of: the builds it
// needs (each distinct one once: a worker built from the backend's directory shares its image),
// the image each process runs, and its process table. Pure; engine.ts runs the builds.
import { resolve } from 'node:path';
import { BerthError, ValidationError } from '../../lib/errors.js';
import { effectiveLimits, type Limits } from '../../lib/limits.js';
import { WEB } from '../../runtime/types.js';
import type { AppSpec, BuildSpec as SpecBuild } from '../spec/index.js';
import { primaryProcess } from '../spec/serving.js';
import type { BuildSpec } from './build.js';
import type { ProcessEntry, ProcessTable } from './processes.js';

/** Where an image comes from: a reference to pull (or present), or a build of a directory. */
export type ImageSource = { ref: string } | { build: BuildSpec };

const toBuild = (b: SpecBuild, dir: string): BuildSpec => ({
  context: resolve(dir, b.context),
  ...(b.dockerfile ? { dockerfile: b.dockerfile } : {}), ...(Object.keys(b.args).length ? { args: b.args } : {}), ...(b.target ? { target: b.target } : {}),
});

/** Two sources that make the same image: the same reference, or the same build inputs. */
export const sourceKey = (s: ImageSource): string =>
  'ref' in s ? `ref ${s.ref}` : `build ${JSON.stringify([s.build.context, s.build.dockerfile ?? null, s.build.args ?? {}, s.build.target ?? null])}`;

/** The app's own image: --image over the file's image or build; null when the file gives neither. */
function appSource(spec: AppSpec, dir: string, image?: string): ImageSource | null {
  if (image) return { ref: image };
  if (spec.image) return { ref: spec.image };
  return spec.build ? { build: toBuild(spec.build, dir) } : null;
}

/** Each process's image: its own image or build, else the app's. */
export function processSources(spec: AppSpec, dir: string, image?: string): Record<string, ImageSource> {
  const app = appSource(spec, dir, image);
  return Object.fromEntries(Object.entries(spec.processes).map(([name, p]) => {
    const own: ImageSource | null = p.image ? { ref: p.image } : p.build ? { build: toBuild(p.build, dir) } : null;
    const source = own ?? app;
    if (!source) {
      throw new ValidationError(`processes.${name}`, 'has no image: give it an image or a build, or give the app one',
        'e.g. build: . at the top of berth.yml, or berth deploy APP --image REF');
    }
    return [name, source];
  }));
}

/** Where the static site's files come from: its own image or build, its process's, else the app's. */
export function staticSource(spec: AppSpec, dir: string, processes: Record<string, ImageSource>, image?: string): ImageSource | null {
  const s = spec.static;
  if (!s) return null;
  if (s.image) return { ref: s.image };
  if (s.build) return { build: toBuild(s.build, dir) };
  if (s.process) return processes[s.process] ?? null;
  return appSource(spec, dir, image) ?? processes[WEB] ?? null;
}

/** The distinct builds among the sources, in a stable order: each runs once. */
export function distinctBuilds(sources: ImageSource[]): BuildSpec[] {
  const seen = new Map<string, BuildSpec>();
  for (const s of sources) if ('build' in s && !seen.has(sourceKey(s))) seen.set(sourceKey(s), s.build);
  return [...seen.values()];
}

export { primaryProcess } from '../spec/serving.js';

export interface SpecTableInput {
  spec: AppSpec;
  /** The image each process runs, built or named: a reference or an image id. */
  images: Record<string, string>;
  /** The release's own image (the primary process's): processes on it leave `image` out. */
  releaseImage: string;
  appLimits: Partial<Limits>;
  /** The process env (berth.yml's env under the process's own) as the release stores it: encrypted. */
  sealEnv: (env: Record<string, string>) => string;
}

/** The release's process table from the description: each process as it runs, with the app's
 *  limits under the file's resources. */
export function specProcessTable(i: SpecTableInput): ProcessTable {
  const table: ProcessTable = {};
  for (const [name, p] of Object.entries(i.spec.processes)) {
    const image = i.images[name];
    if (!image) throw new BerthError('internal', `no image for process ${name}`);
    const env = { ...i.spec.env, ...p.env };
    const own: Partial<Limits> = { ...(p.resources.cpus !== null ? { cpus: p.resources.cpus } : {}),
      ...(p.resources.memory_mb !== null ? { memory_mb: p.resources.memory_mb } : {}) };
    const entry: ProcessEntry = {
      ...(p.command ? { cmd: p.command } : {}), ...(p.entrypoint ? { entrypoint: p.entrypoint } : {}),
      ...(image !== i.releaseImage ? { image } : {}),
      ...(p.port !== null ? { port: p.port } : {}), ...(p.health ? { health: p.health } : {}),
      ...(Object.keys(env).length ? { env: i.sealEnv(env) } : {}), ...(p.volumes.length ? { volumes: p.volumes } : {}),
      stop_grace_ms: p.stop_grace_period_ms, limits: effectiveLimits({ ...i.appLimits, ...own }),
    };
    table[name] = entry;
  }
  return table;
}

/** Copies per process from the file, for the processes `berth scale` has not set yet: once set,
 *  the formation is the operator's, and a deploy of an unchanged file does not undo it. */
export function formationFromSpec(spec: AppSpec, formation: Record<string, number>): Record<string, number> | null {
  const primary = primaryProcess(spec);
  if (primary && spec.processes[primary]!.replicas < 1) {
    throw new ValidationError(`processes.${primary}.replicas`, 'serves the app\'s requests: it runs one copy at least', 'leave replicas out for one copy');
  }
  // the serving process's copies each hold a name the proxy balances across (caddy/targets.ts);
  // another process a route goes to has one name, so one copy
  for (const r of spec.routes) {
    if (r.kind === 'process' && r.process !== primary && (spec.processes[r.process]?.replicas ?? 1) !== 1) {
      throw new ValidationError(`processes.${r.process}.replicas`, 'a process that routes go to runs one copy (only the serving one runs several)',
        'leave replicas out for it');
    }
  }
  const added = Object.entries(spec.processes).filter(([name]) => !(name in formation));
  return added.length ? { ...formation, ...Object.fromEntries(added.map(([name, p]) => [name, p.replicas])) } : null;
}
