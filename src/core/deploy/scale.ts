// `berth scale APP worker=3`: how many copies of each process run, changed on the live release
// without a deploy. New copies must stay up as a deploy's workers must; copies taken away get
// their grace period to finish the job in hand. The formation outlives releases: the next
// deploy and a rollback run the same counts.
import { BerthError } from '../../lib/errors.js';
import * as v from '../../lib/validate.js';
import { WEB } from '../../runtime/types.js';
import type { Ctx } from '../context.js';
import { confirmWorkers, drainWorkers, formationOf, relName, startWorkers, unitsOf } from './execute.js';
import { checkScale, describeProcesses, type Formation, replicasOf } from './processes.js';

const SCALE_LOCK_ID = -3; // an operation without a deploy row

export interface ScaleResult { app: string; release: string; processes: string; started: string[]; stopping: string[] }

export async function scale(ctx: Ctx, req: { app: string; processes: Formation; actor: string; lockTimeoutMs?: number }): Promise<ScaleResult> {
  const app = v.appName(req.app);
  if (!ctx.store.getApp(app)) throw new BerthError('not_found', `app ${app} not found`, 'list apps with: berth apps list');
  const liveOf = () => { const id = ctx.store.getApp(app)!.live_release; return id ? ctx.store.getRelease(id)! : null; };
  checkScale(liveOf(), app, req.processes); // a clear error before waiting for the lock
  const { controller } = await ctx.locks.acquire(app, { deployId: SCALE_LOCK_ID, what: 'a scale change', actor: req.actor }, req.lockTimeoutMs ?? 5000);
  try {
    const live = liveOf()!;
    checkScale(live, app, req.processes);
    const before = formationOf(ctx, app);
    const after = { ...before, ...req.processes };
    const units = (await unitsOf(ctx, live)).filter((u) => u.process !== WEB);
    const started = [];
    const stopping = [];
    for (const process of Object.keys(req.processes).filter((p) => p !== WEB)) {
      const want = replicasOf(after, process);
      const have = units.filter((u) => u.process === process && u.running).map((u) => u.replica);
      const extra = units.filter((u) => u.process === process && u.replica > want && u.running);
      const missing = Array.from({ length: want }, (_, i) => i + 1).filter((i) => !have.includes(i));
      for (const i of missing) {
        const [u] = await startWorkers(ctx, live, [{ process, replicas: i }], i);
        await confirmWorkers(ctx, live, [u!], Date.now(), ctx.settings.worker_up_ms, controller.signal)
          .catch(async (e) => { await ctx.runtime.remove(u!); throw e; });
        started.push(u!.name);
      }
      drainWorkers(ctx, live, extra);
      stopping.push(...extra.map((u) => u.name));
    }
    ctx.store.setFormation(app, after);
    ctx.store.audit({ actor: req.actor, action: 'scale', app, result: 'succeeded', detail: { from: before, to: after, release: relName(live) } });
    return { app, release: relName(live), processes: describeProcesses(live, after), started, stopping };
  } finally {
    ctx.locks.release(app, SCALE_LOCK_ID);
  }
}
