// What the proxy should route for each app, derived from state.
import type { RouteInput } from '../../proxy/types.js';
import { WEB } from '../../runtime/types.js';
import type { Ctx } from '../context.js';
import { s3PublicRoute } from '../shared-services/public.js';

export function routeFor(ctx: Ctx, app: string): RouteInput {
  const row = ctx.store.getApp(app);
  const live = row?.live_release ? ctx.store.getRelease(row.live_release) : undefined;
  return {
    app,
    domains: ctx.store.domainsOf(app),
    upstream: ctx.runtime.servingName(app, WEB),
    port: live?.port ?? row?.port ?? 8000,
  };
}

/** Runs fn while the app counts as leaving: its deletion has taken the route away and its row
 *  goes last, and until then a reconcile must not bring the route back. */
export async function whileLeaving<T>(ctx: Ctx, app: string, fn: () => Promise<T>): Promise<T> {
  ctx.leaving.add(app);
  try {
    return await fn();
  } finally {
    ctx.leaving.delete(app);
  }
}

/** Every app's route (but a leaving one's), and the public object storage endpoint's when there is one. */
export function desiredRoutes(ctx: Ctx): RouteInput[] {
  const s3 = s3PublicRoute(ctx);
  return [...ctx.store.listApps().filter((a) => !ctx.leaving.has(a.name)).map((a) => routeFor(ctx, a.name)), ...(s3 ? [s3] : [])];
}
