// `berth services remove-old s3`: after a move to Garage, the old MinIO goes for good (its
// container, its data directory, its secret files). Only once the move is done: before, apps may
// still serve from it, or hold data the catch-up copy has not taken yet. The CLI asks first.
import { BerthError } from '../../lib/errors.js';
import type { Ctx } from '../context.js';
import { MOVE_COMMAND } from './move-plan.js';
import { moveState, oldStorePlace, saveMoveState } from './move-state.js';

export async function removeOldStore(ctx: Ctx, actor: string) {
  const st = moveState(ctx);
  if (!st?.old) {
    throw new BerthError('not_found', 'there is no old object store to remove',
      st?.removed_at ? `it was removed on ${st.removed_at}` : 'berth keeps one only after a move: berth services move s3 --to garage');
  }
  if (st.phase !== 'done') {
    throw new BerthError('conflict', 'the move to Garage is not finished: apps may still serve from MinIO, or have written there what Garage lacks',
      `finish it first: ${MOVE_COMMAND}`);
  }
  const place = oldStorePlace(ctx, st);
  const removed = await ctx.runtime.services.purge('s3', st.old.slot);
  saveMoveState(ctx, { ...st, old: null, removed_at: new Date().toISOString() });
  ctx.store.audit({ actor, action: 'services.remove-old', result: 'succeeded', detail: { service: 's3', removed } });
  return { service: 's3', removed, note: `the old MinIO (${place.container}) and its data are gone; apps use Garage` };
}
