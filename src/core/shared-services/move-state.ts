// Where a move of object storage to Garage keeps its state (a row of the services table,
// encrypted: it holds the new keys and the old store's root secret), and what it makes berth say.
import type { Ctx } from '../context.js';
import { type MoveState, moveWarnings } from './move-plan.js';

const ROW = 's3-move';

export function moveState(ctx: Ctx): MoveState | null {
  const row = ctx.store.getService(ROW);
  return row ? ctx.cipher.decryptJSON<MoveState>(row.secret) : null;
}

export function saveMoveState(ctx: Ctx, st: MoveState): MoveState {
  ctx.store.setService(ROW, 'move', ctx.cipher.encryptJSON(st));
  return st;
}

/** The old MinIO's container and data directory (it keeps the usual place: `<instance>-s3`). */
export function oldStorePlace(ctx: Ctx, st: MoveState) {
  return { container: ctx.runtime.services.logsRef('s3', st.old?.slot).name, dataDir: ctx.runtime.services.dataDir('s3', st.old?.slot) };
}

/** What berth up and berth services say about a move under way, or the old store it kept. */
export function moveWarningsOf(ctx: Ctx): string[] {
  const st = moveState(ctx);
  return st ? moveWarnings(st, oldStorePlace(ctx, st)) : [];
}
