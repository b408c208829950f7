// How the proxy routes an app's requests under one of its releases (pure): the release's
// description (path prefixes to processes, the static site, an upstream outside berth, redirects,
// headers) as a routing table; a release without one sends everything to its serving process,
// the same route as before routing tables, so a plain deploy changes no proxy config.
import type { PathRoute, RouteInput } from '../../proxy/types.js';
import type { ReleaseRow } from '../../state/store.js';
import { entryOf, primaryOf } from '../deploy/processes.js';
import { type ReleaseSpec, specOf } from '../deploy/release-spec.js';
import { WEB } from '../../runtime/types.js';

export interface RoutingNames {
  /** The name the proxy resolves to reach a process of the app. */
  servingName(process: string, replica?: number): string;
  /** How many copies of a process run (the app's formation); 1 when absent. */
  copies?(process: string): number;
  /** The directory the app's static site is served from (its pointer to the live release's files). */
  staticDir: string;
}

type Routing = Pick<RouteInput, 'upstream' | 'upstreams' | 'port' | 'paths' | 'redirects' | 'headers'>;

/** The names of every copy of a process, when it runs more than one (the proxy lists them all). */
function copiesOf(names: RoutingNames, process: string): { upstreams?: string[] } {
  const n = names.copies?.(process) ?? 1;
  return n > 1 ? { upstreams: Array.from({ length: n }, (_, i) => names.servingName(process, i + 1)) } : {};
}

/** A process's port in a release: its own, else the release's (web's). */
const portOf = (r: Pick<ReleaseRow, 'processes' | 'port'>, process: string) => entryOf(r, process).port ?? r.port;

export function releaseRouting(r: Pick<ReleaseRow, 'processes' | 'port' | 'spec'>, names: RoutingNames): Routing {
  const spec: ReleaseSpec = specOf(r);
  const primary = primaryOf(r) ?? WEB;
  const base = { upstream: names.servingName(primary), ...copiesOf(names, primary), port: portOf(r, primary) };
  const paths = pathsOf(spec, r, names);
  const extra = {
    ...(spec.redirects?.length ? { redirects: spec.redirects } : {}),
    ...(spec.headers && Object.keys(spec.headers).length ? { headers: spec.headers } : {}),
  };
  // everything to the serving process is what the route says without a table
  const plain = paths.length === 1 && paths[0]!.prefix === '/' && paths[0]!.target.kind === 'process' && paths[0]!.target.upstream === base.upstream;
  return { ...base, ...(paths.length && !plain ? { paths } : {}), ...extra };
}

function pathsOf(spec: ReleaseSpec, r: Pick<ReleaseRow, 'processes' | 'port'>, names: RoutingNames): PathRoute[] {
  if (spec.upstream) return [{ prefix: '/', strip_prefix: false, target: { kind: 'external', url: spec.upstream.url } }];
  return (spec.routes ?? []).map((route): PathRoute => {
    if (route.kind === 'static') {
      // files sit at the site's root: a site served under /docs finds /docs/a.css as a.css
      return { prefix: route.path, strip_prefix: route.path !== '/', target: { kind: 'static', dir: names.staticDir, spa: spec.static?.spa ?? false } };
    }
    return { prefix: route.path, strip_prefix: route.strip_prefix,
      target: { kind: 'process', upstream: names.servingName(route.process), ...copiesOf(names, route.process), port: portOf(r, route.process) } };
  });
}
