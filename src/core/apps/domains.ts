// An app's domains: added and removed after creation. Each change is one route change in the
// proxy (stream_close_delay keeps other apps' streams open across it); the next release gets
// the new first domain as APP_DOMAIN.
import { BerthError } from '../../lib/errors.js';
import * as v from '../../lib/validate.js';
import type { Ctx } from '../context.js';
import { s3PublicDomain } from '../shared-services/public.js';
import { routeFor } from './routes.js';

const DOMAINS_LOCK_ID = -2; // an operation without a deploy row

export interface DomainChange { add?: string[]; remove?: string[] }

/** The app's domains after the change (pure): validated, deduplicated, order kept, new ones last. */
export function changedDomains(current: string[], c: DomainChange): string[] {
  const add = (c.add ?? []).map((d, i) => v.domain(d, `add[${i}]`));
  const remove = new Set((c.remove ?? []).map((d, i) => v.domain(d, `remove[${i}]`)));
  if (!add.length && !remove.size) throw new BerthError('invalid', 'nothing to change', 'berth domains add NAME DOMAIN, or: berth domains remove NAME DOMAIN');
  for (const d of remove) if (!current.includes(d)) throw new BerthError('not_found', `domain ${d} is not one of this app's (${current.join(', ')})`);
  const next = [...new Set([...current.filter((d) => !remove.has(d)), ...add])];
  if (!next.length) throw new BerthError('invalid', 'an app needs at least one domain', 'add another domain before removing this one');
  return next;
}

export async function changeDomains(ctx: Ctx, name: string, c: DomainChange, actor: string) {
  const app = v.appName(name);
  if (!ctx.store.getApp(app)) throw new BerthError('not_found', `app ${app} not found`, 'list apps with: berth apps list');
  const before = ctx.store.domainsOf(app);
  const next = changedDomains(before, c);
  for (const d of next.filter((x) => !before.includes(x))) {
    const owner = ctx.store.domainOwner(d);
    if (owner) throw new BerthError('conflict', `domain ${d} is already used by app ${owner}`, `remove it from ${owner} first`);
    if (d === s3PublicDomain(ctx)) throw new BerthError('conflict', `domain ${d} is the public object storage endpoint`, 'choose another domain');
  }
  if (JSON.stringify(next) === JSON.stringify(before)) return { app, domains: before, changed: false };
  await ctx.locks.acquire(app, { deployId: DOMAINS_LOCK_ID, what: 'a domain change', actor }, 5000);
  try {
    ctx.store.setDomains(app, next);
    try {
      await ctx.proxy.ensureRoute(routeFor(ctx, app));
    } catch (e) {
      ctx.store.setDomains(app, before); // the proxy refused the route: the app keeps what it had
      throw e;
    }
  } finally {
    ctx.locks.release(app, DOMAINS_LOCK_ID);
  }
  ctx.store.audit({
    actor, action: 'domains.change', app, result: 'succeeded',
    detail: { added: next.filter((d) => !before.includes(d)), removed: before.filter((d) => !next.includes(d)) },
  });
  return { app, domains: next, changed: true };
}
