// The environment a release runs with: the user's config plus what berth injects.
import { RESERVED_ENV_KEYS } from '../../lib/validate.js';
import type { Ctx } from '../context.js';
import { serviceEnv } from '../shared-services/services.js';

/** A release made before its app's object storage moved (berth services move s3 --to garage)
 *  reads the store the app left: its S3_ENDPOINT is not the one a release gets now (pure). */
export const readsOtherStore = (release: Record<string, string>, now: Record<string, string>) =>
  !!release.S3_ENDPOINT && !!now.S3_ENDPOINT && release.S3_ENDPOINT !== now.S3_ENDPOINT;

export function releaseEnv(ctx: Ctx, app: string, release: string): Record<string, string> {
  const enc = ctx.store.configOf(app);
  // a key stored before berth reserved it is berth's now: a release never gets the stale value
  const user = Object.fromEntries(Object.entries(enc).filter(([k]) => !RESERVED_ENV_KEYS.has(k)).map(([k, v]) => [k, ctx.cipher.decrypt(v)]));
  const domains = ctx.store.domainsOf(app);
  return { ...user, ...serviceEnv(ctx, app), APP_NAME: app, APP_DOMAIN: domains[0] ?? '', BERTH_RELEASE: release };
}
