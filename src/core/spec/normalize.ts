// From berth.yml as parsed to the model: defaults that depend on other keys (web's port and
// health check, the process a release runs in, the catch-all route), then the checks that
// span keys (cross-checks.ts). Pure; the schema's last step.
import { DEFAULTS } from './defaults.js';
import { crossCheck, type Report } from './cross-checks.js';
import type { ParsedFile } from './schema.js';
import { byCodeUnit } from '../../lib/order.js';
import { WEB } from '../../runtime/types.js';

type Processes = NonNullable<ParsedFile['processes']>;
type Process = Processes[string];

export { WEB };

const defaultHealth = () => ({ path: DEFAULTS.healthPath, interval_ms: DEFAULTS.healthIntervalMs, timeout_ms: DEFAULTS.healthTimeoutMs });

/** web listens on 8000 unless told; every process with a port is health-checked at /health unless told. */
function withDefaults(name: string, p: Process): Process {
  const port = p.port ?? (name === WEB ? DEFAULTS.webPort : null);
  return { ...p, port, health: p.health ?? (port !== null ? defaultHealth() : null) };
}

/** The process a one-off runs in when it does not say: web, or the only process there is. */
export function defaultProcess(processes: Record<string, unknown>): string | null {
  const names = Object.keys(processes);
  return names.includes(WEB) ? WEB : names.length === 1 ? names[0]! : null;
}

/** Where each request goes: the user's routes, the static site, and web for everything else;
 *  the longest prefix first, as a router tries them. */
function routesOf(p: ParsedFile, processes: Processes) {
  type Route = { path: string; kind: 'process'; process: string; strip_prefix: boolean } | { path: string; kind: 'static' };
  const routes: Route[] = Object.entries(p.routes ?? {}).map(([path, t]) => ({ path, kind: 'process', process: t.process, strip_prefix: t.strip_prefix }));
  const taken = new Set(routes.map((r) => r.path));
  if (p.static && !taken.has(p.static.path)) routes.push({ path: p.static.path, kind: 'static' });
  if (!p.upstream && processes[WEB] && !taken.has('/') && p.static?.path !== '/') {
    routes.push({ path: '/', kind: 'process', process: WEB, strip_prefix: false });
  }
  return routes.sort((a, b) => b.path.length - a.path.length || byCodeUnit(a.path, b.path));
}

export function normalize(p: ParsedFile, report: Report) {
  const processes: Processes = Object.fromEntries(Object.entries(p.processes ?? {}).map(([n, x]) => [n, withDefaults(n, x)]));
  const fallback = defaultProcess(processes);
  const spec = {
    image: p.image ?? null,
    build: p.build ?? null,
    processes,
    release: p.release ? { ...p.release, process: p.release.process ?? fallback } : null,
    cron: Object.fromEntries(Object.entries(p.cron ?? {}).map(([n, c]) => [n, { ...c, process: c.process ?? fallback }])),
    domains: p.domains ?? [],
    redirects: p.redirects ?? [],
    headers: p.headers ?? {},
    routes: routesOf(p, processes),
    static: p.static ?? null,
    volumes: p.volumes ?? [],
    upstream: p.upstream ?? null,
    env: p.env ?? {},
  };
  crossCheck(p, spec, report);
  return spec;
}

export type NormalizedSpec = ReturnType<typeof normalize>;
