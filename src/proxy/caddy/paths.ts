// An app's routing table as one Caddy subroute: the longest prefix first, a prefix matching
// itself and what lies under it (/api and /api/..., never /apiary; Caddy's path matcher is
// case-insensitive), the prefix stripped before passing on when the route says so.
import type { PathRoute } from '../types.js';
import { literal } from './placeholders.js';
import { targetHandlers, type TargetOptions } from './targets.js';
import { byCodeUnit } from '../../lib/order.js';

export const matchPrefix = (prefix: string) => (prefix === '/' ? undefined : [{ path: [prefix, `${prefix}/*`] }]);

/** The table in the order a router tries it: longest prefix first, ties by name (stable JSON). */
export const byPrefix = (paths: PathRoute[]) => [...paths].sort((a, b) => b.prefix.length - a.prefix.length || byCodeUnit(a.prefix, b.prefix));

export function pathRoutes(paths: PathRoute[], o: TargetOptions): object[] {
  const routes: object[] = byPrefix(paths).map((p) => {
    const match = matchPrefix(p.prefix);
    // /api/x?q=1 becomes /x?q=1, and /api becomes / (Caddy keeps the path absolute)
    const strip = p.strip_prefix && p.prefix !== '/' ? [{ handler: 'rewrite', strip_path_prefix: literal(p.prefix) }] : [];
    return { ...(match ? { match } : {}), handle: [...strip, ...targetHandlers(p.target, o)], terminal: true };
  });
  if (!paths.some((p) => p.prefix === '/')) {
    routes.push({ handle: [{ handler: 'static_response', status_code: 404, headers: { 'Content-Type': ['text/plain'] }, body: 'no route for this path\n' }] });
  }
  return routes;
}
