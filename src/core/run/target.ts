// What a one-off command of an app runs as (pure but for the state read): the live release's
// process, with its image, env, limits and network; only the command is the caller's.
import { BerthError, ValidationError } from '../../lib/errors.js';
import { type ProcessSpec, WEB } from '../../runtime/types.js';
import type { ReleaseRow } from '../../state/store.js';
import type { Ctx } from '../context.js';
import { processSpec, relName } from '../deploy/execute.js';
import { processesOf } from '../deploy/processes.js';

export function liveRelease(ctx: Ctx, app: string): ReleaseRow {
  const id = ctx.store.getApp(app)?.live_release;
  const live = id ? ctx.store.getRelease(id) : undefined;
  if (!live) throw new BerthError('conflict', `${app} has no live release to run a command in`, `deploy it first: berth deploy ${app} --image REF`);
  return live;
}

/** The spec of the live release's process (web unless named); an unknown process is refused with the ones it has. */
export function runTarget(ctx: Ctx, app: string, process = WEB): { spec: ProcessSpec; release: ReleaseRow } {
  const release = liveRelease(ctx, app);
  const known = processesOf(release);
  if (!known.includes(process)) {
    throw new ValidationError('process',
      `${JSON.stringify(process)} is not a process of ${app}'s live release ${relName(release)} (it runs ${known.join(', ')})`,
      `name one of them: berth run ${app} --process ${known.find((p) => p !== WEB) ?? WEB} -- CMD`);
  }
  return { spec: processSpec(ctx, release, process), release };
}
