// What the API's handlers share: who asks, and the app a path names.
import type { Ctx } from '../core/context.js';
import { BerthError } from '../lib/errors.js';
import * as v from '../lib/validate.js';
import type { Req } from './http.js';

export const actorOf = (r: Req) => (r.header('x-berth-actor') ?? 'unknown').slice(0, 100);

export function mustApp(ctx: Ctx, raw: string): string {
  const name = v.appName(raw);
  if (!ctx.store.getApp(name)) throw new BerthError('not_found', `app ${name} not found`, 'list apps with: berth apps list');
  return name;
}
