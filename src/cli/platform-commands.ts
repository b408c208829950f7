// Commands that act on the host itself rather than through the daemon.
import type { Command } from 'commander';
// The platform code is imported only when one of these commands runs: it is the heaviest
// part of the CLI and every other command talks to the daemon instead.
import { existsSync, readFileSync } from 'node:fs';
import { BerthError, ValidationError } from '../lib/errors.js';
import * as v from '../lib/validate.js';
import { pathsFor, rootFromEnv } from '../state/paths.js';
import { ROUTE_DRAIN_MAX_MS, type Settings } from '../state/settings.js';
import { REDIS_POLICIES, type RedisPolicy } from '../state/redis-policies.js';
import { SAMPLE_IMAGE } from '../bootstrap/sample-image.js';
import { out, progress, table } from './output.js';

type Globals = () => { root?: string; json?: boolean };
type Action = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;

function redisMaxmemory(raw: string): number {
  const mb = Number(raw);
  if (!Number.isInteger(mb) || mb < 8 || mb > 65536) {
    throw new ValidationError('redis-maxmemory', `${JSON.stringify(raw)} is not a size in MB (8 to 65536)`, 'e.g. --redis-maxmemory 160');
  }
  return mb;
}
function routeDrain(raw: string): number {
  const ms = v.duration(raw, 'route-drain');
  if (ms > ROUTE_DRAIN_MAX_MS) {
    throw new ValidationError('route-drain', `${JSON.stringify(raw)} is longer than ${ROUTE_DRAIN_MAX_MS / 1000}s: every route change would take that long`,
      'e.g. --route-drain 250ms or 1s');
  }
  return ms;
}
function redisPolicy(raw: string): RedisPolicy {
  if (!(REDIS_POLICIES as readonly string[]).includes(raw)) {
    throw new ValidationError('redis-policy', `${JSON.stringify(raw)} is not a maxmemory policy`, `use one of ${REDIS_POLICIES.join(', ')}`);
  }
  return raw as RedisPolicy;
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new BerthError('invalid', 'berth up must run as root', 'run it with sudo');
}

/** --object-store, checked here; --minio-image alone means MinIO (pure). */
function objectStore(name: string | undefined, minioImage: string | undefined): Settings['object_store'] | undefined {
  if (name === undefined) return minioImage === undefined ? undefined : 'minio';
  if (!['garage', 'minio', 's3rver'].includes(name)) {
    throw new ValidationError('object-store', `${JSON.stringify(name)} is not an object store`, 'use garage, minio or s3rver');
  }
  return name as Settings['object_store'];
}

export function upCommand(program: Command, globals: Globals, action: Action): void {
  program.command('up').description('install and start everything berth needs on this host (idempotent)')
    .option('--http-port <port>', 'public HTTP port (default 80)')
    .option('--https-port <port>', 'public HTTPS port (default 443)')
    .option('--bind <ip>', 'address the proxy listens on (default 0.0.0.0)')
    .option('--acme-email <email>', 'contact address for ACME (Let\'s Encrypt) accounts')
    .option('--acme-ca <url>', 'ACME directory URL (default: Let\'s Encrypt)')
    .option('--acme-ca-root <pem>', 'PEM file of a CA to trust for the ACME server')
    .option('--instance <name>', 'prefix of every Docker object (default berth)')
    .option('--warm <duration>', 'how long a replaced release stays running for instant rollback (default 10m)')
    .option('--stream-close-delay <duration>', 'how long a WebSocket/SSE stream outlives a proxy config change (default 8h)')
    .option('--route-drain <duration>',
      'how long the proxy drains keep-alive connections at a route change; each change takes that long (default 250ms, at most 10s)')
    .option('--services <list>', 'shared services to run: postgres,redis,s3 (default) or none')
    .option('--redis-maxmemory <mb>', 'memory of the shared Redis for data, in MB, shared by all apps (default 160)')
    .option('--redis-policy <policy>', `what Redis does when full: ${REDIS_POLICIES.join(', ')} (default volatile-lru)`)
    .option('--object-store <name>',
      'object store for a new platform: garage (default; a key per app), minio, or s3rver (NO per-app keys: every app reads every bucket)')
    .option('--minio-image <ref>', 'MinIO image, for --object-store minio (implied by this option); MinIO publishes no images any more')
    .action(action(async (o: {
      httpPort?: string; httpsPort?: string; bind?: string; acmeEmail?: string; acmeCa?: string; acmeCaRoot?: string;
      instance?: string; warm?: string; streamCloseDelay?: string; routeDrain?: string; services?: string; minioImage?: string; objectStore?: string;
      redisMaxmemory?: string; redisPolicy?: string;
    }) => {
      requireRoot();
      const settings: Partial<Settings> = {
        http_port: o.httpPort ? v.port(o.httpPort, 'http-port') : undefined,
        https_port: o.httpsPort ? v.port(o.httpsPort, 'https-port') : undefined,
        bind: o.bind, acme_email: o.acmeEmail, acme_ca: o.acmeCa, acme_ca_root: o.acmeCaRoot, instance: o.instance,
        warm_ms: o.warm ? v.duration(o.warm, 'warm') : undefined,
        stream_close_delay_ms: o.streamCloseDelay ? v.duration(o.streamCloseDelay, 'stream-close-delay') : undefined,
        route_drain_ms: o.routeDrain === undefined ? undefined : routeDrain(o.routeDrain),
        services: o.services === undefined ? undefined : o.services === 'none' ? [] : o.services.split(',').map((x) => x.trim()) as Settings['services'],
        minio_image: o.minioImage === undefined ? undefined : v.imageRef(o.minioImage, 'minio-image'),
        redis_maxmemory_mb: o.redisMaxmemory === undefined ? undefined : redisMaxmemory(o.redisMaxmemory),
        redis_maxmemory_policy: o.redisPolicy === undefined ? undefined : redisPolicy(o.redisPolicy),
        object_store: objectStore(o.objectStore, o.minioImage),
      };
      const root = rootFromEnv(globals().root);
      const [{ up }, { EngineApi }] = await Promise.all([import('../bootstrap/up.js'), import('../runtime/docker/engine-api.js')]);
      const r = await up(pathsFor(root), { settings, progress, api: new EngineApi() });
      out(!!globals().json, { root, ...r }, () => `${table(r.steps, ['step', 'result'])}\n\nberth is up (root ${root}). Next: berth apps create NAME --domain NAME.localhost`);
    }));
}

export function sampleCommand(program: Command, action: Action): void {
  program.command('sample').description('the bundled sample app (used by the quick start and the tests)')
    .command('build').description('build the sample app image locally')
    .option('--tag <tag>', 'image tag', SAMPLE_IMAGE)
    .option('--force', 'rebuild even if the image exists')
    .action(action(async (o: { tag: string; force?: boolean }) => {
      v.imageRef(o.tag, 'tag');
      const [{ buildSampleImage, sampleIsCurrent }, { EngineApi }] = await Promise.all([
        import('../bootstrap/sample.js'), import('../runtime/docker/engine-api.js'),
      ]);
      const api = new EngineApi();
      if (!o.force && await sampleIsCurrent(api, o.tag)) return out(false, null, () => `${o.tag} is up to date`);
      await buildSampleImage(api, o.tag, progress);
      out(false, null, () => `built ${o.tag}`);
    }));
}

export function restoreHostCommand(program: Command, globals: Globals, action: Action): void {
  program.command('restore-host').description('disaster recovery: bring back the platform and every app with its data from a platform '
    + 'backup (berth backup platform), on a fresh machine or an empty data root; never overwrites one')
    .requiredOption('--from <source>', 's3://BUCKET/PREFIX (a backup target), or a directory holding a copy of the old <root>/backups')
    .requiredOption('--key <file>', 'the backup key (the file berth backup key export printed)')
    .option('--endpoint <url>', 'the S3 endpoint, for an s3:// source')
    .option('--region <region>', 'the S3 region', 'us-east-1')
    .option('--access-key <id>', 'the S3 access key id')
    .option('--secret-key-stdin', 'read the S3 secret key from stdin')
    .option('--no-archive', 'leave the WAL archive aside: every app\'s latest logical backup instead (an archive that does not restore)')
    .action(action(async (o: { from: string; key: string; endpoint?: string; region: string; accessKey?: string; secretKeyStdin?: boolean;
      archive: boolean }) => {
      requireRoot();
      const root = rootFromEnv(globals().root);
      const [{ restoreHost, parseSource }, { EngineApi }] = await Promise.all([
        import('../bootstrap/restore-host.js'), import('../runtime/docker/engine-api.js')]);
      let secret = '';
      if (o.secretKeyStdin) for await (const chunk of process.stdin) secret += chunk;
      secret = secret.trim();
      const s3 = o.endpoint ? { endpoint: o.endpoint, region: o.region, access_key: o.accessKey ?? '', secret_key: secret } : null;
      if (!existsSync(o.key)) throw new BerthError('invalid', `no key file at ${o.key}`, 'give the file berth backup key export printed: --key FILE');
      const r = await restoreHost(pathsFor(root), { from: parseSource(o.from, s3), identity: readFileSync(o.key, 'utf8'), api: new EngineApi(), progress,
        noArchive: !o.archive });
      out(!!globals().json, { root, ...r }, () => `${table(r.apps, ['app', 'result'])}\n\nthe platform is back from ${r.archive}`
        + `${r.from_archive ? ' and PostgreSQL from its WAL archive' : ''} (root ${root}). `
        + 'Apps\' Redis data and bucket objects are not in a platform backup: see the README (Backups, restore-host).');
    }));
}
