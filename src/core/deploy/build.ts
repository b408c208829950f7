// The build of a deploy from source: before anything else of the deploy, under the app's lock (an
// abort cancels it; two deploys of one app never build at once) and before a release row exists,
// so a failed build leaves no trace but the deploy's own failed record.
import type { BuildResult } from '../../runtime/build/types.js';
import { asBerthError, BerthError } from '../../lib/errors.js';
import type { Ctx } from '../context.js';
import type { Emit } from './execute.js';

/** What to build: a directory on the daemon's host, and the build's inputs. */
export interface BuildSpec { context: string; dockerfile?: string; args?: Record<string, string>; target?: string }

/** Says the build in one line (pure), as the plan shows it. */
export function describeBuild(b: BuildSpec): string {
  const args = Object.keys(b.args ?? {});
  return `build the image from ${b.context} (${b.dockerfile ?? 'Dockerfile'}${b.target ? `, target ${b.target}` : ''}`
    + `${args.length ? `, build args ${args.join(', ')}` : ''})`;
}

export interface BuildContext { deployId: number; actor: string; live: string | null; emit: Emit; signal: AbortSignal }

export async function buildImage(ctx: Ctx, app: string, b: BuildSpec, x: BuildContext): Promise<BuildResult> {
  const t0 = Date.now();
  x.emit({ type: 'step', step: 'build', state: 'started', detail: describeBuild(b) });
  let r: BuildResult;
  try {
    r = await ctx.runtime.builder.build({ app, ...b }, (line) => x.emit({ type: 'progress', line }), x.signal);
  } catch (e) {
    const err = asBerthError(e);
    const result = err.code === 'aborted' ? 'aborted' : 'failed';
    ctx.store.audit({ actor: x.actor, action: 'deploy', app, result, detail: { deploy: x.deployId, error: err.message } });
    ctx.log.warn({ app, deploy: x.deployId, err: err.message }, 'build failed; nothing changed');
    throw new BerthError(err.code, `deploy #${x.deployId} of ${app} failed: ${err.message}`,
      [x.live ? `${x.live} keeps serving` : 'no release was made', err.hint].filter(Boolean).join('; '), { ...err.details, deploy: x.deployId, live: x.live });
  }
  ctx.log.info({ app, tag: r.tag, image: r.imageId, builder: r.builder, ms: Date.now() - t0 }, 'image built');
  x.emit({ type: 'step', step: 'build', state: 'done', ms: Date.now() - t0, detail: `${r.tag} (${r.imageId.slice(0, 19)})` });
  return r;
}
