// The platform's own settings, kept in <root>/berth.json. One zod schema gives the types,
// the defaults and the validation messages.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ValidationError } from '../lib/errors.js';
import type { Paths } from './paths.js';
import { SERVICES } from './service-names.js';
import { REDIS_POLICIES } from './redis-policies.js';

export { DEFAULT_ROOT, pathsFor, rootFromEnv, type Paths } from './paths.js';

export { SERVICES, type ServiceName } from './service-names.js';

/** The Garage release berth bundles for object storage; the image's digest is the multi-arch
 *  index that public deployments pin for v2.3.0 (not verified from here: no registry answers). */
export const GARAGE_VERSION = '2.3.0';
export const GARAGE_IMAGE = `dxflrs/garage:v${GARAGE_VERSION}@sha256:866bd13ed2038ba7e7190e840482bc27234c4afaf77be8cfa439ae088c1e4690`;

/** The Caddy release berth runs (see proxy-container.ts). */
export const CADDY_VERSION = '2.11.4';

/** The route change's drain, by default and at most (route_drain_ms below): each change takes that long. */
export const ROUTE_DRAIN_MS = 250;
export const ROUTE_DRAIN_MAX_MS = 10_000;

export const SettingsSchema = z.object({
  /** Prefix of every Docker object berth owns; lets several platforms (or tests) share one engine. */
  instance: z.string().regex(/^[a-z][a-z0-9]{0,14}$/, 'lowercase letters and digits, starting with a letter, at most 15').default('berth'),
  http_port: z.number().int().min(1).max(65535).default(80),
  https_port: z.number().int().min(1).max(65535).default(443),
  /** Address the proxy publishes on; 0.0.0.0 serves the world. */
  bind: z.string().ip().default('0.0.0.0'),
  acme_email: z.string().email().optional(),
  /** ACME directory URL; Let's Encrypt when unset. */
  acme_ca: z.string().url().optional(),
  /** PEM file (on the host) of a CA to trust for the ACME server, e.g. Pebble's. */
  acme_ca_root: z.string().optional(),
  /** How long a replaced release stays running so a rollback needs no start. */
  warm_ms: z.number().int().min(0).default(10 * 60_000),
  keep_releases: z.number().int().min(1).max(50).default(5),
  deploy_timeout_ms: z.number().int().min(1000).default(60_000),
  /** How long a release command (migrations) may run before the deploy gives up on it. */
  release_timeout_ms: z.number().int().min(1000).default(10 * 60_000),
  drain_timeout_ms: z.number().int().min(0).default(30_000),
  /** A new release's worker must stay up this long before the switch: most that crash at
   *  boot (a missing module, a bad env) do so within a second of their runtime's start, which
   *  itself can take a second on a busy 2-core server. */
  worker_up_ms: z.number().int().min(0).default(2000),
  /** How often the daemon probes each serving copy of an app running several (core/deploy/copy-health.ts). */
  copy_check_ms: z.number().int().min(200).default(2000),
  /** How often Caddy re-resolves an app's upstream name: bounds switch time. */
  upstream_refresh_ms: z.number().int().min(20).max(5000).default(25),
  caddy_image: z.string().default(`caddy:${CADDY_VERSION}`),
  /** How long Caddy keeps a proxied WebSocket/SSE stream open after a config change replaced the
   *  config it was opened under. Long, so a route change of one app never cuts another's streams;
   *  each retained config costs memory until then (README: "What a route change costs"). */
  stream_close_delay_ms: z.number().int().min(0).default(8 * 3600_000),
  /** How long the old config's server drains its keep-alive connections at a route change
   *  (Caddy's shutdown_delay: every route change takes this long; proxy/caddy/config.ts). */
  route_drain_ms: z.number().int().min(0).max(ROUTE_DRAIN_MAX_MS).default(ROUTE_DRAIN_MS),
  /** Which object store berth runs, chosen the first time object storage starts (then it sticks):
   *  Garage (a key per app); MinIO (a user per app; minio_image must be pullable or present);
   *  s3rver (no keys: every app reads every bucket; only when asked for by name). */
  object_store: z.enum(['garage', 'minio', 's3rver']).default('garage'),
  /** Garage's image; where it cannot be pulled, berth builds its own image of the same release. */
  garage_image: z.string().default(GARAGE_IMAGE),
  /** MinIO's image, for object_store minio (upstream no longer publishes images). */
  minio_image: z.string().default('minio/minio:RELEASE.2025-04-22T22-12-26Z'),
  /** The shared Redis's memory for data, shared by every app (maxmemory); its container may use
   *  1.6 times as much (at least 256 MB) for connections, fragmentation and AOF rewrites. */
  redis_maxmemory_mb: z.number().int().min(8).max(65536).default(160),
  /** What Redis does at maxmemory: volatile-lru evicts keys that have a TTL (caches), least
   *  recently used first, and refuses writes (OOM errors) when none is left; keys without a TTL
   *  (queues, sessions without expiry) are never evicted. noeviction refuses writes at once. */
  redis_maxmemory_policy: z.enum(REDIS_POLICIES).default('volatile-lru'),
  /** maxmemory of an app's own Redis (`apps create --redis dedicated`); its container's limit is
   *  1.6 times as much, at least 64 MB. */
  redis_dedicated_maxmemory_mb: z.number().int().min(8).max(65536).default(48),
  /** Shared services berth runs for apps (containers on the private network). */
  services: z.array(z.enum(SERVICES)).default([...SERVICES]),
});
export type Settings = z.infer<typeof SettingsSchema>;

/** Creates the data layout; private directories are 0700. Idempotent. */
export function ensureLayout(p: Paths): void {
  for (const [dir, mode] of [[p.root, 0o755], [p.stateDir, 0o700], [p.runDir, 0o700], [p.caddyRunDir, 0o700],
    [p.caddyConfigDir, 0o700], [p.caddyDataDir, 0o700], [p.logsDir, 0o750], [p.staticDir, 0o755]] as const) {
    mkdirSync(dir, { recursive: true, mode });
  }
}

/** The settings file as saved (an empty object when there is none). */
export function storedSettings(p: Paths): Record<string, unknown> {
  return existsSync(p.settings) ? JSON.parse(readFileSync(p.settings, 'utf8')) as Record<string, unknown> : {};
}

export function loadSettings(p: Paths): Settings {
  return parseSettings(upgradedSettings(storedSettings(p)).raw);
}

/** Settings that earlier versions of berth saved and this one cannot run with, and their
 *  replacement: Caddy before 2.7 has no stream_close_delay (pure). */
export function upgradedSettings(raw: Record<string, unknown>): { raw: Record<string, unknown>; notes: string[] } {
  const out = { ...raw };
  const notes: string[] = [];
  const caddy = typeof raw.caddy_image === 'string' ? /^caddy:2\.([0-6])(\.|$)/.exec(raw.caddy_image) : null;
  if (caddy) {
    out.caddy_image = `caddy:${CADDY_VERSION}`;
    notes.push(`caddy_image ${raw.caddy_image as string} -> ${out.caddy_image} (berth needs Caddy 2.7 or newer)`);
  }
  return { raw: out, notes };
}

export function parseSettings(raw: unknown): Settings {
  const r = SettingsSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ValidationError(`settings.${i.path.join('.')}`, i.message);
  }
  return r.data;
}

export function saveSettings(p: Paths, s: Settings): void {
  const tmp = `${p.settings}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, p.settings);
}
