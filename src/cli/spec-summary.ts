// berth spec check's report for people (pure): what the app's files describe, as berth will run it.
import { quoteWords } from '../lib/shell-words.js';
import type { AppSpec, BuildSpec } from '../core/spec/index.js';
import { table } from './output.js';

const build = (b: BuildSpec) => `build ${b.context}${b.dockerfile ? ` (${b.dockerfile})` : ''}${b.target ? ` target ${b.target}` : ''}`;
const short = (s: string, n = 40) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const secs = (ms: number) => (ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`);

function source(x: { image: string | null; build: BuildSpec | null; process?: string | null }): string {
  return x.image ?? (x.build ? build(x.build) : x.process ? `image of ${x.process}` : "the app's image");
}

function processRows(s: AppSpec) {
  return Object.entries(s.processes).map(([name, p]) => ({
    name, from: source(p),
    command: p.command || p.entrypoint ? short(quoteWords([...(p.entrypoint ?? []), ...(p.command ?? [])])) : "image's",
    port: p.port, health: p.health?.path, replicas: p.replicas,
    limits: [p.resources.cpus !== null ? `${p.resources.cpus} cpu` : '', p.resources.memory_mb !== null ? `${p.resources.memory_mb} MB` : '']
      .filter(Boolean).join(', ') || null,
    volumes: p.volumes.length ? p.volumes.map((m) => `${m.volume}:${m.path}${m.read_only ? ':ro' : ''}`) : null,
  }));
}

function routeLines(s: AppSpec): string[] {
  return s.routes.map((r) => {
    const st = s.static!;
    if (r.kind === 'static') return `  ${r.path.padEnd(12)} static files ${st.root} from ${source(st)}${st.spa ? ', /index.html for other paths' : ''}`;
    return `  ${r.path.padEnd(12)} ${r.process}${r.path !== '/' ? (r.strip_prefix ? ` (without ${r.path})` : ' (path kept)') : ''}`;
  });
}

export function specSummary(file: string, files: string[], s: AppSpec, warnings: string[]): string {
  const lines = [`${file}: valid${files.length > 1 ? ` (with ${files.filter((f) => f !== file).join(', ')})` : ''}`];
  if (s.upstream) lines.push(`upstream: ${s.upstream.url}${s.upstream.health ? ` (health ${s.upstream.health.path})` : ''}`);
  if (Object.keys(s.processes).length) {
    lines.push('', table(processRows(s), ['name', 'from', 'command', 'port', 'health', 'replicas', 'limits', 'volumes']));
  }
  if (s.routes.length) lines.push('', 'routes:', ...routeLines(s));
  if (s.release) lines.push('', `release: ${quoteWords(s.release.command)} (in ${s.release.process}, timeout ${secs(s.release.timeout_ms)})`);
  const cron = Object.entries(s.cron);
  if (cron.length) {
    lines.push('', 'cron:', ...cron.map(([n, c]) => `  ${n}  ${c.schedule} (${c.timezone})  ${quoteWords(c.command)}`
      + `  (in ${c.process}, timeout ${secs(c.timeout_ms)})`));
  }
  lines.push('', `domains: ${s.domains.join(', ') || "(none: the app's own)"}`);
  for (const r of s.redirects) lines.push(`redirect: ${r.from.join(', ')} -> ${r.to} (${r.code})`);
  for (const [h, v] of Object.entries(s.headers)) lines.push(`header: ${h}: ${v}`);
  if (s.volumes.length) lines.push(`volumes: ${s.volumes.join(', ')}`);
  const env = Object.keys(s.env);
  if (env.length) lines.push(`env: ${env.join(', ')}`);
  if (warnings.length) lines.push('', `warnings (${warnings.length}):`, ...warnings.map((w) => `  ${w}`));
  return lines.join('\n');
}
