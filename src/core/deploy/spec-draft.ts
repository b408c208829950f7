// A release made from an app's description: its builds (each distinct one once, under the
// app's lock like any build), then the release's own image, port and health check (its primary
// process's), the process table and what else the release keeps (release-spec.ts).
import { BerthError } from '../../lib/errors.js';
import { WEB } from '../../runtime/types.js';
import type { Ctx } from '../context.js';
import type { AppSpec } from '../spec/index.js';
import { type BuildContext, buildImage, describeBuild } from './build.js';
import {
  distinctBuilds, formationFromSpec, type ImageSource, primaryProcess, processSources, sourceKey, specProcessTable, staticSource,
} from './from-spec.js';
import type { ProcessTable } from './processes.js';
import { releaseSpec } from './release-spec.js';

export interface SpecDraft {
  image: string; imageId: string | null; port: number; healthPath: string;
  processes: string; spec: string;
  releaseCommand?: { cmd: string[]; process: string | null; timeoutMs: number };
  /** Copies per process the app should get (processes new to its formation), or null. */
  formation: Record<string, number> | null;
}

/** The description's image sources and the builds they need, without building (the dry run's view). */
export function specSources(spec: AppSpec, dir: string, image?: string) {
  const processes = processSources(spec, dir, image);
  const site = staticSource(spec, dir, processes, image);
  return { processes, site, builds: distinctBuilds([...Object.values(processes), ...(site ? [site] : [])]) };
}

export const describeSpecBuilds = (spec: AppSpec, dir: string, image?: string): string[] => specSources(spec, dir, image).builds.map(describeBuild);

/** Builds what the description asks for and drafts the release (nothing is stored yet). */
export async function draftFromSpec(ctx: Ctx, app: string, spec: AppSpec, dir: string, image: string | undefined, x: BuildContext): Promise<SpecDraft> {
  const { processes, site, builds } = specSources(spec, dir, image);
  const built = new Map<string, { tag: string; imageId: string }>();
  for (const b of builds) built.set(sourceKey({ build: b }), await buildImage(ctx, app, b, x));
  const imageOf = (s: ImageSource) => ('ref' in s ? { ref: s.ref, id: null } : { ref: built.get(sourceKey(s))!.tag, id: built.get(sourceKey(s))!.imageId });
  const primary = primaryProcess(spec);
  const first = Object.keys(processes).sort()[0];
  const main = primary ? imageOf(processes[primary]!) : site ? imageOf(site) : first ? imageOf(processes[first]!) : null;
  if (!main && !spec.upstream) throw new BerthError('invalid', 'the description runs nothing: no process, static site or upstream');
  const row = ctx.store.getApp(app)!;
  const table = specProcessTable({
    spec, releaseImage: main?.id ?? main?.ref ?? '',
    images: Object.fromEntries(Object.entries(processes).map(([n, s]) => [n, imageOf(s).id ?? imageOf(s).ref])),
    appLimits: JSON.parse(row.limits), sealEnv: (env) => ctx.cipher.encryptJSON(env),
  });
  markRoles(table, spec, primary);
  const p = primary ? spec.processes[primary]! : null;
  return {
    image: main?.ref ?? 'none', imageId: main?.id ?? null,
    port: p?.port ?? row.port, healthPath: p?.health?.path ?? row.health_path,
    processes: JSON.stringify(table), spec: releaseSpec(spec, site ? imageOf(site).id ?? imageOf(site).ref : null),
    ...(spec.release ? { releaseCommand: { cmd: spec.release.command, process: spec.release.process, timeoutMs: spec.release.timeout_ms } } : {}),
    formation: formationFromSpec(spec, JSON.parse(row.formation)),
  };
}

/** The primary process (where it is not web) and the others routes go to, as the table says it. */
function markRoles(table: ProcessTable, spec: AppSpec, primary: string | null): void {
  if (primary && primary !== WEB) table[primary]!.primary = true;
  for (const r of spec.routes) if (r.kind === 'process' && r.process !== primary && table[r.process]) table[r.process]!.routed = true;
}
