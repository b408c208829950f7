// The environment a release runs with: the user's config plus what berth injects.
import type { Ctx } from '../context.js';
import { serviceEnv } from '../shared-services/services.js';

export function releaseEnv(ctx: Ctx, app: string, release: string): Record<string, string> {
  const enc = ctx.store.configOf(app);
  const user = Object.fromEntries(Object.entries(enc).map(([k, v]) => [k, ctx.cipher.decrypt(v)]));
  const domains = ctx.store.domainsOf(app);
  return { ...user, ...serviceEnv(ctx, app), APP_NAME: app, APP_DOMAIN: domains[0] ?? '', BERTH_RELEASE: release };
}
