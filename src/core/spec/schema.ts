// berth.yml: the one schema of an app's description. It validates the file, turns it into the
// normalized model (AppSpec, its type inferred from here) and writes the JSON Schema editors
// use (berth spec schema, docs/berth.schema.json). A docker-compose.yml is imported into this
// same shape (compose/), so both go through the same checks.
import { z } from 'zod/v4';
import * as f from './fields.js';
import { DEFAULTS } from './defaults.js';
import { normalize } from './normalize.js';


const Build = z.union([
  f.relativePath.transform((context) => ({ context, dockerfile: null, args: {}, target: null })),
  f.mapping({
    context: f.relativePath.optional().meta({ description: 'the directory sent to the builder, relative to this file (default .)' }),
    dockerfile: f.relativePath.optional().meta({ description: 'the Dockerfile, relative to the context (default Dockerfile)' }),
    args: f.buildArgs.optional().meta({ description: 'build args (ARG in the Dockerfile)' }),
    target: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, { error: 'not a build stage name' }).optional()
      .meta({ description: 'the stage to build in a multi-stage Dockerfile' }),
  }).transform((b) => ({ context: b.context ?? '.', dockerfile: b.dockerfile ?? null, args: b.args ?? {}, target: b.target ?? null })),
], { error: 'expected a build: a context path, or {context, dockerfile, args, target}' })
  .meta({ id: 'build', description: 'build the image from source: a context directory, or {context, dockerfile, args, target}' });

const HealthFields = f.mapping({
  path: f.urlPath.optional().meta({ description: `the HTTP path that answers 2xx/3xx when healthy (default ${DEFAULTS.healthPath})` }),
  interval: f.duration.optional()
    .meta({ description: 'time between checks of each copy once it serves (default 2s); 3 failures in a row replace a copy while another passes' }),
  timeout: f.duration.optional().meta({ description: 'how long one check may take (default 5s)' }),
});
const Health = z.union([f.urlPath.transform((path) => ({ path, interval: undefined, timeout: undefined })), HealthFields],
  { error: 'expected a health check: a path such as /health, or {path, interval, timeout}' })
  .transform((h) => ({
    path: h.path ?? DEFAULTS.healthPath, interval_ms: h.interval ?? DEFAULTS.healthIntervalMs, timeout_ms: h.timeout ?? DEFAULTS.healthTimeoutMs,
  }))
  .meta({ id: 'health', description: 'the HTTP health check: a path, or {path, interval, timeout}' });

const Mount = z.union([
  z.string().transform((s, ctx) => {
    const m = /^([^:]+):(\/[^:]*)(?::(ro|rw))?$/.exec(s);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} is not VOLUME:/path[:ro]`, params: { hint: 'e.g. uploads:/app/uploads' } });
      return z.NEVER;
    }
    return { volume: m[1]!, path: m[2]!, read_only: m[3] === 'ro' };
  }),
  f.mapping({ volume: z.string(), path: z.string(), read_only: z.boolean().optional() })
    .transform((m) => ({ volume: m.volume, path: m.path, read_only: m.read_only ?? false })),
], { error: 'expected a mount: VOLUME:/path[:ro], or {volume, path, read_only}' })
  .pipe(z.object({ volume: f.volumeName, path: f.imagePath, read_only: z.boolean() }))
  .meta({ description: 'a named volume mounted into the process: VOLUME:/path[:ro], or {volume, path, read_only}' });

const Resources = f.mapping({ cpus: f.cpus.optional(), memory: f.memory.optional() })
  .transform((r) => ({ cpus: r.cpus ?? null, memory_mb: r.memory ?? null }))
  .meta({ description: 'limits of each replica; the app\'s limits (berth apps limits) where not given' });

export const Process = f.mapping({
  command: f.command.optional().meta({ description: 'what the process runs (default: the image\'s CMD)' }),
  entrypoint: f.command.optional().meta({ description: 'replaces the image\'s ENTRYPOINT' }),
  image: f.imageRef.optional().meta({ description: 'run this image (default: the app\'s image or build)' }),
  build: Build.optional(),
  port: f.port.optional().meta({ description: `the port it listens on; web: ${DEFAULTS.webPort} unless given; a process with a port can take routes` }),
  health: Health.optional(),
  replicas: z.int({ error: 'expected a whole number of replicas' }).min(0, { error: 'must be 0 or more' }).max(64, { error: 'must be 64 at most' })
    .optional().meta({ description: 'how many containers run it (default 1)' }),
  stop_grace_period: f.duration.optional().meta({ description: 'time from SIGTERM to SIGKILL when it is replaced (default 10s)' }),
  resources: Resources.optional(),
  volumes: z.array(Mount).optional(),
  env: f.envMap.optional().meta({ description: 'env vars of this process only, over the app\'s env' }),
  depends_on: z.array(f.processName).optional().meta({ description: 'processes started before this one' }),
}).transform((p) => ({
  command: p.command ?? null, entrypoint: p.entrypoint ?? null, image: p.image ?? null, build: p.build ?? null,
  port: p.port ?? null, health: p.health ?? null, replicas: p.replicas ?? 1, stop_grace_period_ms: p.stop_grace_period ?? DEFAULTS.stopGraceMs,
  resources: p.resources ?? { cpus: null, memory_mb: null }, volumes: p.volumes ?? [], env: p.env ?? {}, depends_on: p.depends_on ?? [],
}));

const OneOff = {
  process: f.processName.optional()
    .meta({ id: 'one-off-process', description: 'run it in this process\'s image and env (default web, or the only process)' }),
  timeout: f.duration.optional().meta({ id: 'one-off-timeout', description: 'stop it after this long' }),
};
const Release = z.union([f.command.transform((command) => ({ command })), f.mapping({ command: f.command, ...OneOff })],
  { error: 'expected a release command: a command, or {command, process, timeout}' })
  .transform((r) => ({ command: r.command, process: 'process' in r ? r.process ?? null : null,
    timeout_ms: ('timeout' in r ? r.timeout : undefined) ?? DEFAULTS.releaseTimeoutMs }))
  .meta({ description: 'run once per deploy in a one-off container of the new release before it gets traffic (migrations); a failure stops the deploy' });

const Cron = f.mapping({
  schedule: z.string().meta({ description: 'cron syntax: minute hour day-of-month month day-of-week (or @daily, @hourly, ...)' }),
  timezone: z.string().optional().meta({ description: `an IANA time zone such as Europe/Berlin (default ${DEFAULTS.timezone})` }),
  command: f.command,
  ...OneOff,
}).transform((c) => ({ schedule: c.schedule.trim(), timezone: c.timezone ?? DEFAULTS.timezone, command: c.command, process: c.process ?? null,
  timeout_ms: c.timeout ?? DEFAULTS.cronTimeoutMs }));

const Redirect = f.mapping({
  from: z.union([f.domain, z.array(f.domain).min(1)], { error: 'expected a domain or a list of domains' }),
  to: f.domain,
  code: z.literal([301, 308], { error: 'must be 301 (permanent, may become GET) or 308 (permanent, keeps the method)' }).optional(),
}).transform((r) => ({ from: Array.isArray(r.from) ? r.from : [r.from], to: r.to, code: r.code ?? DEFAULTS.redirectCode }))
  .meta({ description: 'answer requests for these domains with a redirect to the same path on `to` (www to apex, old domains)' });

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
const Headers = z.record(z.string().regex(HEADER_NAME, { error: 'not an HTTP header name' }),
  z.string().max(4096).regex(/^[^\r\n\0]*$/, { error: 'a header value is one line' }))
  .meta({ description: 'extra response headers on every answer, e.g. Strict-Transport-Security' });

const RouteTarget = z.union([f.processName.transform((process) => ({ process })),
  f.mapping({
    process: f.processName,
    strip_prefix: z.boolean().optional().meta({ description: 'remove the prefix before passing the request on (default false)' }),
  })],
{ error: 'expected a route: a process name, or {process, strip_prefix}' })
  .transform((t) => ({ process: t.process, strip_prefix: 'strip_prefix' in t ? t.strip_prefix ?? false : false }));
const Routes = z.record(f.pathPrefix, RouteTarget)
  .meta({ description: 'path prefixes sent to a process other than web: /api: api, or /api/*: {process: api, strip_prefix: true}' });

const Static = f.mapping({
  root: f.imagePath.meta({ description: 'the directory in the image that holds the files, e.g. /app/dist' }),
  path: f.pathPrefix.optional().meta({ description: 'where the site is served (default /)' }),
  process: f.processName.optional().meta({ description: 'take the files from this process\'s image' }),
  image: f.imageRef.optional().meta({ description: 'take the files from this image' }),
  build: Build.optional(),
  spa: z.boolean().optional().meta({ description: 'a single-page app: paths that are no file get /index.html (default false)' }),
}).transform((s) => ({ root: s.root, path: s.path ?? '/', process: s.process ?? null, image: s.image ?? null, build: s.build ?? null, spa: s.spa ?? false }))
  .meta({ description: 'static files served by Caddy from a directory of an image, switched atomically per release' });

const Upstream = z.union([z.string().transform((url) => ({ url })), f.mapping({ url: z.string(), health: Health.optional() })],
  { error: 'expected an upstream: a URL such as http://100.64.0.7:8080, or {url, health}' })
  .transform((u, ctx) => {
    const url = upstreamUrl(u.url);
    if (typeof url !== 'string') {
      ctx.addIssue({ code: 'custom', message: url.error, params: { hint: 'e.g. http://100.64.0.7:8080' } });
      return z.NEVER;
    }
    return { url, health: 'health' in u ? u.health ?? null : null };
  })
  .meta({ description: 'the app is only a route to a service outside berth: http(s)://host:port' });

function upstreamUrl(raw: string): string | { error: string } {
  let u: URL;
  try { u = new URL(raw); } catch { return { error: `${JSON.stringify(raw)} is not a URL` }; }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { error: `${u.protocol} is not http: or https:` };
  if (u.username || u.password) return { error: 'credentials in the URL would be sent to every request\'s logs: leave them out' };
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) return { error: 'an upstream is a host and port, without a path' };
  return `${u.protocol}//${u.host}`;
}

const Volumes = z.union([z.array(f.volumeName), z.record(f.volumeName, z.union([z.null(), f.mapping({})]))],
  { error: 'expected volume names: a list, or a mapping of names' })
  .transform((x) => (Array.isArray(x) ? x : Object.keys(x)))
  .meta({ description: 'named persistent volumes, kept across releases; mount them in processes with volumes: [NAME:/path]' });

/** berth.yml's keys, checked and each put in its model form; normalize() makes the whole. */
export const BerthFields = f.mapping({
  compose: f.relativePath.optional().meta({ description: 'import the processes (and x-berth) of this docker-compose.yml; keys here are laid over it' }),
  image: f.imageRef.optional().meta({ description: 'the app\'s image, for processes without an image or build of their own' }),
  build: Build.optional(),
  processes: z.record(f.processName, Process).optional()
    .meta({ description: 'web (serves the domains) and any named processes: worker, beat, ...' }),
  release: Release.optional(),
  cron: z.record(f.cronName, Cron).optional().meta({ description: 'jobs the daemon runs on a schedule as one-off containers' }),
  domains: z.array(f.domain).optional(),
  redirects: z.array(Redirect).optional(),
  headers: Headers.optional(),
  routes: Routes.optional(),
  static: Static.optional(),
  volumes: Volumes.optional(),
  upstream: Upstream.optional(),
  env: f.envMap.optional().meta({ description: 'env vars of every process (not secrets: use berth config set for those)' }),
});

export const BerthFile = BerthFields
  .transform((p, ctx) => normalize(p, (path, message, hint) => {
    ctx.addIssue({ code: 'custom', path: [...path], message, ...(hint ? { params: { hint } } : {}) });
  }))
  .meta({ title: 'berth.yml', description: 'An app on berth: its processes, routes, release command, cron jobs and domains. See docs/berth-yml.md.' });

/** What a berth.yml holds once read: plain data, kept per release as JSON. */
export type AppSpec = z.output<typeof BerthFile>;
export type ProcessSpec = AppSpec['processes'][string];
export type BuildSpec = NonNullable<ProcessSpec['build']>;
export type HealthSpec = NonNullable<ProcessSpec['health']>;
export type RouteSpec = AppSpec['routes'][number];
export type CronSpec = AppSpec['cron'][string];
/** berth.yml as written, before defaults (what the JSON Schema describes). */
export type BerthFileInput = z.input<typeof BerthFile>;
/** The file parsed but not yet normalized: normalize.ts's input. */
export type ParsedFile = z.output<typeof BerthFields>;

/** The JSON Schema of berth.yml for editors (draft 2020-12): what a user writes, before defaults. */
export function berthJsonSchema(): Record<string, unknown> {
  const s = withoutIds(z.toJSONSchema(BerthFile, { io: 'input', unrepresentable: 'any', reused: 'ref' })) as Record<string, unknown>;
  // x- keys at the top are free, for YAML anchors (resolve.ts leaves them out before the schema)
  return { ...s, patternProperties: { '^x-': {} } };
}

/** The schemas' ids name the shared definitions ($defs); zod also writes them as `id`, which is no JSON Schema keyword. */
function withoutIds(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(withoutIds);
  if (s === null || typeof s !== 'object') return s;
  const kept = Object.entries(s).filter(([k, v]) => !(k === 'id' && typeof v === 'string'));
  return Object.fromEntries(kept.map(([k, v]) => [k, withoutIds(v)]));
}

/** As written to docs/berth.schema.json and by berth spec schema. */
export const berthJsonSchemaText = (): string => `${JSON.stringify(berthJsonSchema(), null, 2)}\n`;
