// A docker-compose.yml as the layers of an app's description (layers.ts): the services as
// processes, then the file's x-berth keys. Services berth provides (PostgreSQL, Redis, object
// storage, a reverse proxy) are left out; every key berth does not read is reported.
import { closest } from '../suggest.js';
import { Findings, type Path } from '../issues.js';
import { byPrefix, type Layer } from '../layers.js';
import type { ComposeCtx } from './context.js';
import { interpolateDoc } from './interpolate-doc.js';
import { TOP_LEVEL_KEYS } from './keys.js';
import { isDatastore, REPLACEMENT, type Shared, sharedServiceOf } from './shared.js';
import { translateService, type TranslatedService } from './service.js';
import { isMap } from './values.js';
import { chooseWeb } from './web.js';

export interface ComposeImport { layers: Layer[]; findings: Findings; web: string | null }

/** Compose allows A-Z, _ and . in names; berth's names are lowercase with hyphens. */
const berthName = (s: string) => s.toLowerCase().replace(/[_.]/g, '-');

const TOP_LEVEL_NOTES: Record<string, string> = {
  version: 'obsolete in compose, ignored',
  name: "ignored: the app's name is the one given to berth",
  configs: 'not supported, ignored: bake the files into the image',
  secrets: 'not supported, ignored: keep secrets with berth config set (encrypted)',
  include: 'not supported, ignored: the services of included files are not imported (write them into this file)',
  models: 'not supported, ignored',
};

function reportTopLevel(doc: Record<string, unknown>, findings: Findings): void {
  for (const k of Object.keys(doc)) {
    if (k.startsWith('x-')) continue; // extension fields: anchors for YAML, ignored by compose too
    if (TOP_LEVEL_NOTES[k]) findings.warn([k], TOP_LEVEL_NOTES[k]);
    else if (!TOP_LEVEL_KEYS.includes(k)) {
      const near = closest(k, TOP_LEVEL_KEYS);
      findings.warn([k], `not a compose key${near ? ` (did you mean ${near}?)` : ''}, ignored`);
    }
  }
}

interface Kept { svc: string; t: TranslatedService; image: string | null }

/** Services to translate, and those left out (why, by name). */
function sortServices(services: Record<string, unknown>, written: Record<string, unknown>, ctx: ComposeCtx): {
  kept: Kept[]; leftOut: Map<string, Shared | 'profile'>;
} {
  const kept: Kept[] = [];
  const leftOut = new Map<string, Shared | 'profile'>();
  for (const [svc, body] of Object.entries(services)) {
    const at = ['services', svc];
    const s = body ?? {};
    if (!isMap(s)) {
      ctx.findings.error(at, 'expected a mapping: {image, build, command, ...}');
      continue;
    }
    if (s.profiles !== undefined) {
      ctx.findings.warn(at, `left out: it has profiles (${[s.profiles].flat().join(', ')}), and compose starts it only when asked to (--profile)`);
      leftOut.set(svc, 'profile');
      continue;
    }
    const image = typeof s.image === 'string' ? s.image : null;
    const shared = image && s.build === undefined ? sharedServiceOf(image) : null;
    if (shared) {
      ctx.findings.warn(at, `left out: ${REPLACEMENT[shared]}`);
      leftOut.set(svc, shared);
      continue;
    }
    // as written: an image whose ${VAR} failed is said once, by the interpolation
    const w = written[svc] as Record<string, unknown> | null;
    if (w?.image === undefined && w?.build === undefined) ctx.findings.error(at, 'needs an image or a build');
    if (image && s.build === undefined && isDatastore(image)) {
      ctx.findings.warn(at, 'runs as a process of the app, its data in its named volumes: berth provides PostgreSQL, Redis and object storage, not this');
    }
    kept.push({ svc, t: translateService(s, at, ctx), image });
  }
  return { kept, leftOut };
}

/** Process names for the services: web for the one serving the domains, berth's form for the others. */
function processNames(kept: Kept[], web: string | null, findings: Findings): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Map<string, string>();
  for (const { svc } of kept) {
    const name = svc === web ? 'web' : berthName(svc);
    if (name === 'web' && svc !== web) {
      findings.error(['services', svc], `the process web is the one serving the app's domains (${web ?? 'none here'}): rename this service, `
        + `or make it that one with x-berth: { web: ${svc} }`);
    } else if (taken.has(name)) {
      findings.error(['services', svc], `becomes the process ${name}, as ${taken.get(name)} does: rename one of them`);
    }
    if (name !== svc && svc !== web) findings.warn(['services', svc], `runs as the process ${name} (berth's names are lowercase, with hyphens)`);
    taken.set(name, svc);
    names.set(svc, name);
  }
  if (web && web !== 'web') findings.warn(['services', web], 'runs as the process web: it serves the app\'s domains');
  return names;
}

/** Mount and depends_on names as berth's, dropping the services left out. */
function rename(t: TranslatedService, svc: string, names: Map<string, string>, leftOut: Map<string, Shared | 'profile'>, findings: Findings): void {
  if (t.process.depends_on) {
    t.process.depends_on = t.process.depends_on.filter((d) => {
      const why = leftOut.get(d);
      if (why && why !== 'profile') findings.warn(['services', svc, 'depends_on', d], `${d} is left out: berth's ${SHARED_NAME[why]} is always up`);
      return !why;
    }).map((d) => names.get(d) ?? berthName(d));
    if (!t.process.depends_on.length) delete t.process.depends_on;
  }
  if (t.process.volumes) t.process.volumes = t.process.volumes.map((m) => ({ ...m, volume: berthName(m.volume) }));
}

function topLevelVolumes(doc: Record<string, unknown>, used: Set<string>, findings: Findings): Record<string, null> {
  const declared = doc.volumes;
  if (declared === undefined || declared === null) return {};
  if (!isMap(declared)) {
    findings.error(['volumes'], 'expected a mapping of volume names');
    return {};
  }
  const out: Record<string, null> = {};
  for (const [name, opts] of Object.entries(declared)) {
    if (!used.has(name)) {
      findings.warn(['volumes', name], 'not used by a process berth runs, dropped');
      continue;
    }
    out[berthName(name)] = null;
    if (isMap(opts)) {
      for (const k of Object.keys(opts)) {
        findings.warn(['volumes', name, k], k === 'external'
          ? 'not supported: berth keeps the app\'s volumes itself, under its data root; this one starts empty'
          : 'not supported, ignored: berth creates the app\'s volumes itself');
      }
    }
  }
  return out;
}

function networks(doc: Record<string, unknown>, kept: Kept[], services: Record<string, unknown>, findings: Findings): void {
  if (isMap(doc.networks)) {
    for (const [name, opts] of Object.entries(doc.networks)) {
      findings.warn(['networks', name], isMap(opts) && opts.external
        ? 'external network, not joined: an app\'s processes share the app\'s own network, and reach berth\'s services through it'
        : 'not needed, ignored: an app\'s processes share the app\'s own network');
    }
  }
  for (const { svc } of kept) {
    const n = (services[svc] as Record<string, unknown>).networks;
    if (!isMap(n)) continue;
    for (const [net, opts] of Object.entries(n)) {
      if (isMap(opts)) for (const k of Object.keys(opts)) findings.warn(['services', svc, 'networks', net, k], 'not supported, ignored');
    }
  }
}

const SHARED_NAME: Record<Shared, string> = { postgres: 'PostgreSQL', redis: 'Redis', s3: 'object storage', proxy: 'Caddy' };
const READ_INSTEAD: Record<Shared, string> = { postgres: 'DATABASE_URL', redis: 'REDIS_URL', s3: 'S3_ENDPOINT', proxy: 'nothing: requests come through Caddy' };

/** An env var of a kept service that names a left-out one as its host: it will not resolve. */
function envWiring(kept: Kept[], leftOut: Map<string, Shared | 'profile'>, findings: Findings): void {
  for (const { svc, t } of kept) {
    for (const [k, v] of Object.entries((t.process.env ?? {}) as Record<string, string>)) {
      for (const [gone, why] of leftOut) {
        if (why === 'profile' || !new RegExp(`(^|[/@])${gone.replace(/[.]/g, '\\.')}(:|/|$)`).test(v)) continue;
        findings.warn(['services', svc, 'environment', k], `points at ${gone}, which berth leaves out: read ${READ_INSTEAD[why]} instead`);
      }
    }
  }
}

/** x-berth, its process references in berth's names. */
function xberthLayer(xb: Record<string, unknown>, names: Map<string, string>, file: string): Layer {
  const to = (n: unknown) => (typeof n === 'string' ? names.get(n) ?? n : n);
  const { web: _web, ...doc } = structuredClone(xb);
  const back: [Path, Path][] = [];
  if (isMap(doc.processes)) {
    doc.processes = Object.fromEntries(Object.entries(doc.processes).map(([svc, p]) => {
      back.push([['processes', to(svc) as string], ['x-berth', 'processes', svc]]);
      if (isMap(p) && Array.isArray(p.depends_on)) p.depends_on = p.depends_on.map(to);
      return [to(svc) as string, p];
    }));
  }
  if (isMap(doc.routes)) {
    for (const [path, r] of Object.entries(doc.routes)) doc.routes[path] = isMap(r) ? { ...r, process: to(r.process) } : to(r);
  }
  for (const k of ['static', 'release'] as const) {
    const v = doc[k];
    if (isMap(v) && 'process' in v) v.process = to(v.process);
  }
  if (isMap(doc.cron)) for (const c of Object.values(doc.cron)) if (isMap(c) && 'process' in c) c.process = to(c.process);
  return { file, doc, toFile: (at) => byPrefix(back, at, ['x-berth']) };
}

export function importCompose(raw: Record<string, unknown>, file: string, around: Omit<ComposeCtx, 'findings'>): ComposeImport {
  const findings = new Findings(file);
  const ctx: ComposeCtx = { ...around, findings };
  const doc = interpolateDoc(raw, ctx.env, findings) as Record<string, unknown>;
  reportTopLevel(doc, findings);
  if (!isMap(doc.services)) {
    findings.error(['services'], doc.services === undefined ? 'is required: the services of the app' : 'expected a mapping of services');
    return { layers: [], findings, web: null };
  }
  const xb = doc['x-berth'];
  if (xb !== undefined && !isMap(xb)) findings.error(['x-berth'], 'expected a mapping of berth.yml keys (and web: SERVICE)');
  const { kept, leftOut } = sortServices(doc.services, raw.services as Record<string, unknown>, ctx);
  const web = chooseWeb(kept.map((k) => ({ name: k.svc, port: k.t.port, image: k.image })), isMap(xb) ? xb : undefined, new Set(leftOut.keys()), findings);
  const names = processNames(kept, web, findings);
  const processes: Record<string, unknown> = {};
  const origins: [Path, Path][] = [];
  const used = new Set<string>();
  for (const { svc, t } of kept) {
    rename(t, svc, names, leftOut, findings);
    const proc = names.get(svc)!;
    processes[proc] = t.process;
    origins.push([['processes', proc], ['services', svc]], ...t.origins.map(([b, c]): [Path, Path] => [['processes', proc, ...b], ['services', svc, ...c]]));
    for (const m of ((doc.services[svc] as Record<string, unknown>).volumes ?? []) as unknown[]) {
      const name = typeof m === 'string' ? m.split(':')[0] : isMap(m) ? m.source : undefined;
      if (typeof name === 'string') used.add(name);
    }
    if (svc === web && t.port === null) findings.warn(['services', svc], 'no port in ports: or expose:, so requests go to 8000 (berth\'s default)');
  }
  const volumes = topLevelVolumes(doc, used, findings);
  for (const v of Object.keys(volumes)) origins.push([['volumes', v], ['volumes', v]]);
  networks(doc, kept, doc.services, findings);
  envWiring(kept, leftOut, findings);
  const layers: Layer[] = [{ file, doc: { processes, ...(Object.keys(volumes).length ? { volumes } : {}) }, toFile: (at) => byPrefix(origins, at) }];
  if (isMap(xb)) layers.push(xberthLayer(xb, names, file));
  return { layers, findings, web };
}
