// Checks that span keys of berth.yml: what a route, a one-off or a mount names must exist, an
// upstream app has nothing of its own to run, a domain either serves or redirects. Each
// problem is reported with the path of the key to change.
import { cronScheduleError, timezoneError } from './cron-syntax.js';
import type { Path } from './issues.js';
import type { NormalizedSpec } from './normalize.js';
import type { ParsedFile } from './schema.js';
import { primaryProcess } from './serving.js';
import { unknownNameMessage } from './suggest.js';

export type Report = (path: Path, message: string, hint?: string) => void;

const UPSTREAM_EXCLUDES = ['processes', 'image', 'build', 'release', 'cron', 'routes', 'static', 'volumes'] as const;

function checkUpstream(p: ParsedFile, report: Report): void {
  for (const k of UPSTREAM_EXCLUDES) {
    if (p[k] !== undefined) report([k], 'not allowed with upstream: an upstream app is only a route to a service outside berth', `remove ${k} or upstream`);
  }
}

/** A reference to a process: it must exist, and take requests when `needsPort`. */
function checkProcessRef(s: NormalizedSpec, path: Path, name: string | null, report: Report, needsPort = false): void {
  const names = Object.keys(s.processes);
  if (name === null) {
    report(path, names.length ? `say which process runs it (one of ${names.join(', ')})` : 'there is no process to run it in',
      names.length ? undefined : 'add a process under processes');
  } else if (!s.processes[name]) {
    report(path, unknownNameMessage('process', name, names));
  } else if (needsPort && s.processes[name]!.port === null) {
    report(path, `process ${name} has no port, so it cannot take requests`, `give it one: processes.${name}.port`);
  }
}

function checkProcesses(s: NormalizedSpec, report: Report): void {
  const names = Object.keys(s.processes);
  const serving = primaryProcess(s);
  for (const [name, p] of Object.entries(s.processes)) {
    if (p.health && p.port === null) report(['processes', name, 'health'], 'a health check needs a port', `add processes.${name}.port`);
    if (name === serving && p.port !== null && p.replicas < 1) {
      report(['processes', name, 'replicas'], `${name} serves the app's domains: it needs at least 1 replica`);
    }
    p.depends_on.forEach((d, i) => {
      if (d === name) report(['processes', name, 'depends_on', i], 'a process cannot depend on itself');
      else if (!s.processes[d]) report(['processes', name, 'depends_on', i], unknownNameMessage('process', d, names));
    });
    const seen = new Set<string>();
    p.volumes.forEach((m, i) => {
      if (!s.volumes.includes(m.volume)) {
        report(['processes', name, 'volumes', i], unknownNameMessage('volume', m.volume, s.volumes), `declare it: volumes: [${m.volume}]`);
      }
      if (seen.has(m.path)) report(['processes', name, 'volumes', i], `${m.path} is mounted twice`);
      seen.add(m.path);
    });
  }
  const cycle = dependencyCycle(s.processes);
  if (cycle) report(['processes', cycle[0]!, 'depends_on'], `processes depend on each other in a circle: ${cycle.join(' -> ')}`);
}

/** A circle in depends_on, as the names along it, or null. */
function dependencyCycle(processes: Record<string, { depends_on: string[] }>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const visit = (n: string, trail: string[]): string[] | null => {
    if (state.get(n) === 'open') return [...trail.slice(trail.indexOf(n)), n];
    if (state.get(n) === 'done' || !processes[n]) return null;
    state.set(n, 'open');
    for (const d of processes[n]!.depends_on) {
      const c = d !== n ? visit(d, [...trail, n]) : null;
      if (c) return c;
    }
    state.set(n, 'done');
    return null;
  };
  for (const n of Object.keys(processes)) {
    const c = visit(n, []);
    if (c) return c;
  }
  return null;
}

function checkRoutes(p: ParsedFile, s: NormalizedSpec, report: Report): void {
  for (const [path, t] of Object.entries(p.routes ?? {})) {
    checkProcessRef(s, ['routes', path], t.process, report, true);
    if (s.static && s.static.path === path) report(['routes', path], `static serves ${path}: route the process elsewhere or move static.path`);
  }
  if (s.static?.process) checkProcessRef(s, ['static', 'process'], s.static.process, report);
  if (s.static && [s.static.process, s.static.image, s.static.build].filter((x) => x !== null).length > 1) {
    report(['static'], 'give one of process, image or build: where the files come from');
  }
}

function checkOneOffs(s: NormalizedSpec, report: Report): void {
  if (s.release) checkProcessRef(s, ['release', 'process'], s.release.process, report);
  for (const [name, c] of Object.entries(s.cron)) {
    checkProcessRef(s, ['cron', name, 'process'], c.process, report);
    const bad = cronScheduleError(c.schedule);
    if (bad) report(['cron', name, 'schedule'], bad, 'e.g. "0 3 * * *" for 03:00 every day, or @hourly');
    const tz = timezoneError(c.timezone);
    if (tz) report(['cron', name, 'timezone'], tz, 'use an IANA name such as Europe/Berlin or UTC');
  }
}

function checkDomains(s: NormalizedSpec, report: Report): void {
  const served = new Set<string>();
  s.domains.forEach((d, i) => {
    if (served.has(d)) report(['domains', i], `${d} is listed twice`);
    served.add(d);
  });
  const redirected = new Set<string>();
  s.redirects.forEach((r, i) => r.from.forEach((d, j) => {
    const at = ['redirects', i, 'from', ...(r.from.length > 1 ? [j] : [])];
    if (served.has(d)) report(at, `${d} is one of the app's domains: a domain either serves the app or redirects`);
    else if (d === r.to) report(at, `${d} would redirect to itself`);
    else if (redirected.has(d)) report(at, `${d} already redirects`);
    redirected.add(d);
  }));
  const headers = new Map<string, string>();
  for (const h of Object.keys(s.headers)) {
    const twin = headers.get(h.toLowerCase());
    if (twin) report(['headers', h], `the same header as ${twin} (names are case-insensitive)`);
    headers.set(h.toLowerCase(), h);
  }
}

export function crossCheck(p: ParsedFile, s: NormalizedSpec, report: Report): void {
  checkDomains(s, report);
  if (p.upstream) return checkUpstream(p, report);
  checkProcesses(s, report);
  checkRoutes(p, s, report);
  checkOneOffs(s, report);
}
