// What Caddy should route for each app, derived from state.
import type { RouteInput } from '../../proxy/caddy/config.js';
import type { Ctx } from '../context.js';
import { s3PublicRoute } from '../services/public.js';

export function routeFor(ctx: Ctx, app: string): RouteInput {
  const row = ctx.store.getApp(app);
  const live = row?.live_release ? ctx.store.getRelease(row.live_release) : undefined;
  return {
    app,
    domains: ctx.store.domainsOf(app),
    upstream: ctx.runtime.servingName(app, 'web'),
    port: live?.port ?? row?.port ?? 8000,
  };
}

/** Every app's route, and the public object storage endpoint's when there is one. */
export function desiredRoutes(ctx: Ctx): RouteInput[] {
  const s3 = s3PublicRoute(ctx);
  return [...ctx.store.listApps().map((a) => routeFor(ctx, a.name)), ...(s3 ? [s3] : [])];
}
