// A Redis for one app alone (`berth apps create NAME --redis dedicated`): its own container
// `<instance>-redis-NAME` with its own maxmemory and memory limit, for apps that need a hard limit
// rather than a share of the shared Redis's memory. The app gets the same two ACL users and
// allow-list as on the shared Redis, so its code and rotation work the same on either.
import { createHmac } from 'node:crypto';
import type { AdminEndpoint } from '../../provisioning/model.js';
import type { RedisMemory } from '../../runtime/types.js';
import { BerthError } from '../../lib/errors.js';
import type { Ctx } from '../context.js';
import { serviceRecord } from './records.js';

/** A dedicated Redis's memory limit may be small: it serves one app. */
const DEDICATED_FLOOR_MB = 64;
const READY_TIMEOUT_MS = 30_000;

/** Its administrator's password, derived from the shared Redis's (which berth keeps encrypted) and
 *  the app's name: the same after a plain `apps delete` and `apps create`, whose data it keeps. */
export function dedicatedRedisPassword(sharedAdminPassword: string, app: string): string {
  return createHmac('sha256', sharedAdminPassword).update(`berth dedicated redis ${app}`).digest('base64url');
}

export const dedicatedMemory = (ctx: Ctx): RedisMemory =>
  ({ maxmemoryMb: ctx.settings.redis_dedicated_maxmemory_mb, policy: ctx.settings.redis_maxmemory_policy, floorMb: DEDICATED_FLOOR_MB });

/** How berth reaches the app's own Redis as administrator, starting its container where needed. */
export async function dedicatedAdmin(ctx: Ctx, app: string, opts: { start: boolean }): Promise<AdminEndpoint> {
  const password = dedicatedRedisPassword(serviceRecord(ctx, 'redis').password, app);
  const d = ctx.runtime.services.dedicatedRedis;
  const started = opts.start ? await d.ensure(app, password, dedicatedMemory(ctx), () => undefined) : null;
  const ip = started ? started.address : await d.address(app);
  if (!ip) throw new BerthError('unavailable', `${app}'s own Redis is not running`, `start it with: berth apps create ${app} ... --redis dedicated (again)`);
  const admin = { host: ip, port: d.endpoint(app).port, user: 'default', password };
  if (started && started.result !== 'ok') await untilAnswers(ctx, app, admin);
  return admin;
}

/** A Redis just started takes a moment to load its data and listen. */
async function untilAnswers(ctx: Ctx, app: string, admin: AdminEndpoint): Promise<void> {
  const end = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const r = (await ctx.jobs({ redis: { admin, status: true } })).redis;
    if (r?.ok) return;
    if (Date.now() > end) {
      throw new BerthError('unavailable', `${app}'s own Redis did not answer: ${r?.error ?? 'no reply'}`,
        `see: docker logs ${ctx.runtime.services.dedicatedRedis.endpoint(app).host}`);
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}
