// What the proxy should route for each app, derived from state.
import type { RouteInput } from '../../proxy/types.js';
import { WEB } from '../../runtime/types.js';
import type { Ctx } from '../context.js';
import type { ReleaseRow } from '../../state/store.js';
import { siteLayout } from '../static-sites/index.js';
import { releaseRouting } from './routing.js';
import { type Formation, replicasOf } from '../deploy/processes.js';
import { s3PublicRoute } from '../shared-services/public.js';

/** The app's route as its live release has it. */
export function routeFor(ctx: Ctx, app: string): RouteInput {
  const row = ctx.store.getApp(app);
  const live = row?.live_release ? ctx.store.getRelease(row.live_release) : undefined;
  if (live) return routeForRelease(ctx, live);
  return { app, domains: ctx.store.domainsOf(app), upstream: ctx.runtime.servingName(app, WEB), port: row?.port ?? 8000 };
}

/** The app's route as one release of it would have it (a deploy sets it ahead of the switch). */
export function routeForRelease(ctx: Ctx, r: ReleaseRow): RouteInput {
  const formation = JSON.parse(ctx.store.getApp(r.app)?.formation ?? '{}') as Formation;
  const names = {
    servingName: (p: string, replica?: number) => ctx.runtime.servingName(r.app, p, replica), copies: (p: string) => replicasOf(formation, p),
    staticDir: siteLayout(ctx.paths.staticDir, r.app).current,
  };
  return { app: r.app, domains: ctx.store.domainsOf(r.app), ...releaseRouting(r, names) };
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
