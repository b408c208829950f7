// One compose service as one of berth's processes (in berth.yml's form, checked afterwards by
// the same schema): every key read or reported, and where each value came from.
import { posix } from 'node:path';
import type { Path } from '../issues.js';
import { closest } from '../suggest.js';
import type { ComposeCtx, Origin } from './context.js';
import { serviceEnv } from './env.js';
import { serviceHealth } from './health.js';
import { BUILD_KEYS, DEPLOY_KEYS, NOT_SUPPORTED, SERVICE_KEYS } from './keys.js';
import { type ComposeMount, serviceMounts } from './volumes.js';
import { composeCommand, composeDuration, composeMemory, isMap, pairs, portSpec } from './values.js';

export interface TranslatedService {
  /** berth.yml's process keys; depends_on and volume names still as compose names them. */
  process: Record<string, unknown> & { depends_on?: string[]; volumes?: ComposeMount[] };
  /** Paths relative to the process and to the service. */
  origins: Origin[];
  port: number | null;
}

function reportKeys(svc: Record<string, unknown>, at: Path, ctx: ComposeCtx): void {
  for (const k of Object.keys(svc)) {
    if (k.startsWith('x-')) {
      if (k === 'x-berth') ctx.findings.warn([...at, k], 'ignored: x-berth goes at the top of the file (x-berth.processes.NAME for this service)');
    } else if (k in NOT_SUPPORTED) {
      ctx.findings.warn([...at, k], `not supported, ignored${NOT_SUPPORTED[k] ? `: ${NOT_SUPPORTED[k]}` : ''}`);
    } else if (!SERVICE_KEYS.includes(k)) {
      const near = closest(k, SERVICE_KEYS);
      ctx.findings.warn([...at, k], `not a compose key${near ? ` (did you mean ${near}?)` : ''}, ignored`);
    }
  }
}

/** build: as berth's, its context made relative to the app's directory. */
function build(raw: unknown, at: Path, ctx: ComposeCtx): Record<string, unknown> | string | undefined {
  const rebase = (p: string) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(p) || p.startsWith('/') ? p : posix.join(ctx.dir, p));
  if (typeof raw === 'string') return rebase(raw);
  if (!isMap(raw)) {
    ctx.findings.error(at, 'expected a context path, or {context, dockerfile, args, target}');
    return undefined;
  }
  for (const k of Object.keys(raw).filter((k) => !['context', 'dockerfile', 'args', 'target'].includes(k))) {
    ctx.findings.warn([...at, k], BUILD_KEYS.includes(k) ? 'not supported, ignored' : 'not a build key, ignored');
  }
  const args = raw.args === undefined ? undefined : pairs(raw.args);
  if (raw.args !== undefined && !args) ctx.findings.error([...at, 'args'], 'expected a mapping or a list of NAME=VALUE');
  return {
    context: typeof raw.context === 'string' ? rebase(raw.context) : raw.context === undefined ? ctx.dir : raw.context,
    ...(raw.dockerfile !== undefined ? { dockerfile: raw.dockerfile } : {}),
    ...(args ? { args: Object.fromEntries(args.filter(([, v]) => v !== null).map(([k, v]) => [k, v])) } : {}),
    ...(raw.target !== undefined ? { target: raw.target } : {}),
  };
}

/** The container port requests go to: the first of ports:, then expose:. */
function port(svc: Record<string, unknown>, at: Path, ctx: ComposeCtx): { port: number | null; from: Path | null } {
  const found: { port: number; from: Path }[] = [];
  for (const key of ['ports', 'expose'] as const) {
    const list = svc[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) {
      ctx.findings.error([...at, key], 'expected a list');
      continue;
    }
    list.forEach((entry, i) => {
      const here = [...at, key, i];
      const p = portSpec(entry);
      if (!p) return ctx.findings.error(here, `${JSON.stringify(entry)} is not a port`, 'e.g. "8000", "8000:8000" or {target: 8000}');
      if (p.protocol !== 'tcp') return ctx.findings.warn(here, `${p.protocol} not supported, ignored: berth routes HTTP`);
      if (p.range) ctx.findings.warn(here, `a port range is not supported: ${p.container} is used`);
      if (p.published) ctx.findings.warn(here, `host port ${p.published} is not opened: requests reach the process through Caddy, on the app's domains`);
      if (!found.some((f) => f.port === p.container)) found.push({ port: p.container, from: [key] });
      return undefined;
    });
  }
  for (const extra of found.slice(1)) {
    ctx.findings.warn([...at, ...extra.from], `${extra.port} is not reachable: berth routes one port per process (${found[0]!.port})`);
  }
  return found[0] ? { port: found[0].port, from: found[0].from } : { port: null, from: null };
}

function deploy(raw: unknown, at: Path, ctx: ComposeCtx, into: TranslatedService): void {
  if (!isMap(raw)) return ctx.findings.error(at, 'expected a mapping');
  for (const k of Object.keys(raw).filter((k) => k !== 'replicas' && k !== 'resources')) {
    ctx.findings.warn([...at, k], DEPLOY_KEYS.includes(k) ? 'not supported, ignored' : 'not a deploy key, ignored');
  }
  if (raw.replicas !== undefined) {
    into.process.replicas = raw.replicas;
    into.origins.push([['replicas'], ['deploy', 'replicas']]);
  }
  const res = raw.resources;
  if (res === undefined) return undefined;
  if (!isMap(res)) return ctx.findings.error([...at, 'resources'], 'expected a mapping: {limits, reservations}');
  if (res.reservations !== undefined) ctx.findings.warn([...at, 'resources', 'reservations'], 'not supported, ignored: berth sets limits');
  const limits = res.limits;
  if (!isMap(limits)) return undefined;
  const resources: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(limits)) {
    if (k === 'cpus') resources.cpus = v;
    else if (k === 'memory') resources.memory = composeMemory(v) ?? v;
    else ctx.findings.warn([...at, 'resources', 'limits', k], `not supported, ignored${k === 'pids' ? ': berth apps limits --pids sets it' : ''}`);
  }
  into.process.resources = { ...(into.process.resources as object | undefined), ...resources };
  into.origins.push([['resources'], ['deploy', 'resources', 'limits']]);
  return undefined;
}

function commandKey(svc: Record<string, unknown>, key: 'command' | 'entrypoint', at: Path, ctx: ComposeCtx, into: TranslatedService): void {
  if (svc[key] === undefined || svc[key] === null) return;
  const c = composeCommand(svc[key]);
  if ('error' in c) return ctx.findings.error([...at, key], c.error, c.hint);
  into.process[key] = c.argv;
  into.origins.push([[key], [key]]);
}

export function translateService(svc: Record<string, unknown>, at: Path, ctx: ComposeCtx): TranslatedService {
  reportKeys(svc, at, ctx);
  const t: TranslatedService = { process: {}, origins: [], port: null };
  const set = (berth: string, value: unknown, from: Path) => {
    t.process[berth] = value;
    t.origins.push([[berth], from]);
  };
  if (svc.build !== undefined) {
    const b = build(svc.build, [...at, 'build'], ctx);
    if (b !== undefined) set('build', b, ['build']);
    if (svc.image !== undefined) ctx.findings.warn([...at, 'image'], 'ignored beside build: berth tags the images it builds itself');
  } else if (svc.image !== undefined) {
    set('image', svc.image, ['image']);
  }
  commandKey(svc, 'command', at, ctx, t);
  commandKey(svc, 'entrypoint', at, ctx, t);
  const env = serviceEnv(svc, at, ctx);
  if (Object.keys(env).length) set('env', env, [svc.environment !== undefined ? 'environment' : 'env_file']);
  const p = port(svc, at, ctx);
  if (p.port !== null) set('port', p.port, p.from!);
  t.port = p.port;
  if (svc.healthcheck !== undefined) {
    const h = serviceHealth(svc.healthcheck, [...at, 'healthcheck'], p.port, ctx);
    if (h) set('health', h, ['healthcheck']);
  }
  if (svc.scale !== undefined) set('replicas', svc.scale, ['scale']);
  // the keys of compose files before deploy.resources
  const resources: Record<string, unknown> = {};
  if (svc.cpus !== undefined) {
    resources.cpus = svc.cpus;
    t.origins.push([['resources', 'cpus'], ['cpus']]);
  }
  if (svc.mem_limit !== undefined) {
    resources.memory = composeMemory(svc.mem_limit) ?? svc.mem_limit;
    t.origins.push([['resources', 'memory'], ['mem_limit']]);
  }
  if (Object.keys(resources).length) t.process.resources = resources;
  if (svc.deploy !== undefined) deploy(svc.deploy, [...at, 'deploy'], ctx, t);
  if (svc.stop_grace_period !== undefined) {
    const ms = composeDuration(svc.stop_grace_period);
    if (ms === null) ctx.findings.error([...at, 'stop_grace_period'], `${JSON.stringify(svc.stop_grace_period)} is not a duration`, 'use e.g. 30s or 1m30s');
    else set('stop_grace_period', `${ms}ms`, ['stop_grace_period']);
  }
  if (svc.volumes !== undefined) {
    const mounts = serviceMounts(svc.volumes, [...at, 'volumes'], ctx);
    if (mounts.length) set('volumes', mounts, ['volumes']);
  }
  if (svc.depends_on !== undefined) {
    const deps = dependsOn(svc.depends_on, [...at, 'depends_on'], ctx);
    if (deps.length) set('depends_on', deps, ['depends_on']);
  }
  return t;
}

function dependsOn(raw: unknown, at: Path, ctx: ComposeCtx): string[] {
  if (Array.isArray(raw)) return raw.map(String);
  if (!isMap(raw)) {
    ctx.findings.error(at, 'expected a list of services, or a mapping of services to {condition}');
    return [];
  }
  for (const [name, v] of Object.entries(raw)) {
    if (isMap(v) && v.condition !== undefined && v.condition !== 'service_started') {
      ctx.findings.warn([...at, name, 'condition'], `${String(v.condition)} not supported, ignored: processes are started, not waited for`);
    }
  }
  return Object.keys(raw);
}
