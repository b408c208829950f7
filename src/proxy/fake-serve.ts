// How the in-memory proxy (fake.ts) answers one request, the way Caddy does with berth's config
// (caddy/config.ts): redirects, extra headers, the routing table (longest prefix first, prefix
// stripped), static files with the SPA fallback and cache headers, external services.
import { readFileSync, statSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join, posix } from 'node:path';
import { IMMUTABLE, isAssetPath, isHashedName, REVALIDATE } from './caddy/static.js';
import { byPrefix } from './caddy/paths.js';
import type { PathRoute, RouteInput } from './types.js';

export interface Answer { status: number; body: string; headers: Record<string, string> }

const answer = (status: number, body: string, headers: Record<string, string> = {}): Answer => ({ status, body, headers });
const noRelease = (host: string) => answer(503, `${host}: no release is answering\n`);

/** The route of the table that takes `path` (Caddy's path matcher is case-insensitive too). */
export function pickPath(paths: PathRoute[], path: string): PathRoute | null {
  const p = path.toLowerCase();
  return byPrefix(paths).find((r) => r.prefix === '/' || p === r.prefix.toLowerCase() || p.startsWith(`${r.prefix.toLowerCase()}/`)) ?? null;
}

export function stripPrefix(prefix: string, uri: string): string {
  const rest = uri.slice(prefix.length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

function flat(h: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
}

function forward(url: URL, host: string, uri: string): Promise<Answer | null> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((res) => {
    const req = send({ host: url.hostname, port: url.port || undefined, path: uri, headers: { host }, servername: url.hostname }, (s) => {
      let body = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => { body += d; });
      s.on('end', () => res(answer(s.statusCode ?? 0, body, flat(s.headers))));
    });
    req.on('error', () => res(null));
    req.end();
  });
}

function serveFile(dir: string, spa: boolean, uri: string): Answer {
  const path = posix.normalize(decodeURIComponent(uri.split('?')[0]!));
  const kind = (p: string) => { try { const s = statSync(join(dir, p)); return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : null; } catch { return null; } };
  let file = path;
  if (kind(file) === 'dir') {
    if (!file.endsWith('/')) return answer(308, '', { location: `${file}/` });
    file = posix.join(file, 'index.html');
  }
  if (kind(file) !== 'file') {
    if (!spa || isAssetPath(path)) return answer(404, '');
    file = '/index.html';
    if (kind(file) !== 'file') return answer(404, '');
  }
  return answer(200, readFileSync(join(dir, file), 'utf8'), { 'cache-control': isHashedName(file) ? IMMUTABLE : REVALIDATE });
}

async function serveApp(r: RouteInput, host: string, uri: string): Promise<Answer> {
  const route: PathRoute | null = r.paths ? pickPath(r.paths, uri.split('?')[0]!)
    : { prefix: '/', strip_prefix: false, target: { kind: 'process', upstream: r.upstream, port: r.port } };
  if (!route) return answer(404, 'no route for this path\n');
  const passed = route.strip_prefix && route.prefix !== '/' ? stripPrefix(route.prefix, uri) : uri;
  const t = route.target;
  if (t.kind === 'static') return serveFile(t.dir, t.spa, passed);
  // 'localhost' reaches this machine, as a resolvable name would; any other name resolves to nothing
  if (t.kind === 'process' && t.upstream !== 'localhost') return noRelease(host);
  const url = t.kind === 'process' ? new URL(`http://127.0.0.1:${t.port}`) : new URL(t.url);
  return (await forward(url, host, passed)) ?? (t.kind === 'process' ? noRelease(host) : answer(502, ''));
}

/** The answer for host and uri (path and query) given the live routes; 404 without a route. */
export async function serve(routes: RouteInput[], host: string, uri: string, httpsPort: number): Promise<Answer> {
  const withHeaders = (r: RouteInput, a: Answer) => ({ ...a, headers: { ...a.headers, ...lower(r.headers ?? {}) } });
  const app = routes.find((x) => x.domains.includes(host));
  if (app) return withHeaders(app, await serveApp(app, host, uri));
  for (const r of routes) {
    const rule = (r.redirects ?? []).find((x) => x.from.includes(host));
    const port = httpsPort === 443 ? '' : `:${httpsPort}`;
    if (rule) return withHeaders(r, answer(rule.code, '', { location: `https://${rule.to}${port}${uri}` }));
  }
  return answer(404, 'no app is served at this address\n');
}

const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
