// Commands for the shared services and an app's connections to them.
import type { Command } from 'commander';
import { BerthError } from '../lib/errors.js';
import * as v from '../lib/validate.js';
import type { DaemonClient } from '../daemon/client.js';
import { ExposeBody, MoveBody, parseBody, ServiceSetBody } from '../daemon/bodies.js';
import { out, progress, table } from './output.js';
import { moveText, type MoveResult } from './move-output.js';

interface Deps {
  client: (timeoutMs?: number) => DaemonClient;
  globals: () => { json?: boolean };
  action: <A extends unknown[]>(fn: (...args: A) => Promise<void>) => (...args: A) => Promise<void>;
}
const enc = encodeURIComponent;
const MiB = 1024 * 1024;

/** Redis: how close it is to maxmemory, which every app shares ("12.5/160 MB (8%) volatile-lru"). */
function memoryUse(x: Record<string, unknown>): string | null {
  if (typeof x.maxmemory_bytes !== 'number' || typeof x.used_bytes !== 'number') return null;
  if (!x.maxmemory_bytes) return `${(x.used_bytes / MiB).toFixed(1)} MB, no maxmemory`;
  return `${(x.used_bytes / MiB).toFixed(1)}/${Math.round(x.maxmemory_bytes / MiB)} MB (${String(x.memory_used_pct)}%) ${String(x.maxmemory_policy)}`;
}

type PgApps = { max_connections: number; superuser_reserved_connections: number; app_slots: number; limits_total: number;
  apps: { app: string; connections: number; limit: number | null; set: boolean }[] };

/** Each app's PostgreSQL connections against its limit, and how the server's slots are shared. */
function pgApps(row: Record<string, unknown> | undefined): string[] {
  const s = row as PgApps | undefined;
  if (!s?.apps?.length) return [];
  const over = s.limits_total > s.app_slots ? `; limits add up to ${s.limits_total}: several apps at their limit at once can fill it` : '';
  const slots = `max_connections ${s.max_connections}: ${s.superuser_reserved_connections} reserved for superusers (berth), ${s.app_slots} shared out to apps`;
  return ['', `postgres connections by app (${slots}${over})`,
    table(s.apps.map((a) => ({ ...a, limit: a.limit === null ? 'none (run berth up)' : `${a.limit} (${a.set ? 'set' : 'default'})` })),
      ['app', 'connections', 'limit'])];
}

export function servicesCommands(program: Command, { client, globals, action }: Deps): void {
  const services = program.command('services').description('the shared services: state, version, data size, connections')
    .action(action(async () => {
      const r = await client(60_000).call<Record<string, unknown>[]>('GET', '/services');
      const warnings = r.flatMap((x) => ((x.warnings as string[] | undefined) ?? []).map((w) => `WARNING: ${x.service as string}: ${w}`));
      const rows = r.map((x) => ({ ...x, service: x.app ? `${String(x.service)} (${String(x.app)})` : x.service,
        data_mb: typeof x.data_bytes === 'number' ? (x.data_bytes / 1e6).toFixed(1) : null, memory: memoryUse(x) }));
      out(!!globals().json, r, () => [table(rows, ['service', 'state', 'health', 'version', 'connections', 'data_mb', 'memory', 'store', 'isolation', 'image']),
        ...pgApps(r.find((x) => x.service === 'postgres')), ...warnings].join('\n'));
    }));

  services.command('set <service>').description('use an external server for a shared service (a database VM, RDS, managed Redis, S3)')
    .option('--external <url>', 'postgres://ADMIN:PASSWORD@HOST:5432/postgres or redis://ADMIN:PASSWORD@HOST:6379 (use - to read it from stdin)')
    .option('--endpoint <url>', 'S3 endpoint URL (on MinIO, with an admin key, each app gets a user of its own)')
    .option('--region <region>', 'S3 region', 'us-east-1')
    .option('--access-key <key>', 'S3 access key id')
    .option('--secret-key-stdin', 'read the S3 secret key from standard input')
    .action(action(async (service: string, o: { external?: string; endpoint?: string; region: string; accessKey?: string; secretKeyStdin?: boolean }) => {
      if (!['postgres', 'redis', 's3'].includes(service)) throw new BerthError('invalid', `unknown service ${JSON.stringify(service)}`, 'use postgres, redis or s3');
      let stdin = '';
      if (o.external === '-' || o.secretKeyStdin) for await (const chunk of process.stdin) stdin += chunk;
      const body = service === 's3'
        ? { endpoint: o.endpoint, region: o.region, access_key: o.accessKey, secret_key: stdin.trim() || undefined }
        : { url: o.external === '-' ? stdin.trim() : o.external };
      parseBody(ServiceSetBody, body, 'options');
      const r = await client(60_000).call<{ service: string; host: string; isolation: string }>('PUT', `/services/${service}`, body);
      out(!!globals().json, r, () => `${r.service} now uses the external server at ${r.host}
  isolation: ${r.isolation}`);
    }));

  services.command('logs <service>').description('print a shared service\'s container logs (postgres, redis or s3)')
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --tail <lines>', 'lines from the end', '100')
    .action(action(async (service: string, o: { follow?: boolean; tail: string }) => {
      if (!['postgres', 'redis', 's3'].includes(service)) throw new BerthError('invalid', `unknown service ${JSON.stringify(service)}`, 'use postgres, redis or s3');
      await client().text(`/services/${service}/logs?tail=${Number(o.tail) || 100}${o.follow ? '&follow=1' : ''}`, (s) => process.stdout.write(s));
    }));

  services.command('expose <service>').description('serve the bundled object storage (Garage or MinIO) at a public domain, for presigned URLs in browsers')
    .option('--domain <domain>', 'e.g. storage.example.com (HTTPS certificate as for apps)')
    .option('--off', 'stop serving it publicly')
    .action(action(async (service: string, o: { domain?: string; off?: boolean }) => {
      if (service !== 's3') throw new BerthError('invalid', `only s3 can be exposed, not ${JSON.stringify(service)}`, 'berth services expose s3 --domain storage.example.com');
      if (!o.off === !o.domain) throw new BerthError('invalid', 'give either --domain DOMAIN or --off');
      const body = parseBody(ExposeBody, { domain: o.off ? null : o.domain }, 'options');
      const r = await client(60_000).call<{ public_endpoint: string | null; note: string }>('PUT', '/services/s3/public', body);
      out(!!globals().json, r, () => `${r.public_endpoint ? `object storage is served at ${r.public_endpoint}` : 'object storage is no longer served publicly'}\n  ${r.note}`);
    }));

  services.command('move <service>')
    .description('move the bundled MinIO to Garage: Garage beside it, a new key per app, data copied bucket by bucket, every app rolled out onto it; '
      + 'MinIO and its data are kept until remove-old (run it again to go on after a failure)')
    .requiredOption('--to <store>', 'garage (the one store berth moves to)')
    .option('--dry-run', 'say what would be copied (buckets, objects, bytes); start and change nothing')
    .action(action(async (service: string, o: { to: string; dryRun?: boolean }) => {
      if (service !== 's3') {
        throw new BerthError('invalid', `only object storage can be moved, not ${JSON.stringify(service)}`, 'berth services move s3 --to garage');
      }
      const body = parseBody(MoveBody, { to: o.to, ...(o.dryRun ? { dry_run: true } : {}) }, 'options');
      const r = await client().stream<MoveResult>('POST', '/services/s3/move', body, (e) => { if (e.type === 'progress') progress(`  ${String(e.line)}`); },
        'lost the daemon; it restarts by itself; the move stopped where it was (apps serve as before): run berth services move s3 --to garage again');
      out(!!globals().json, r, () => moveText(r));
    }));

  services.command('remove-old <service>').description('after a move to Garage: remove the old MinIO for good, its container and its data (asks first)')
    .option('-y, --yes', 'do not ask')
    .action(action(async (service: string, o: { yes?: boolean }) => {
      if (service !== 's3') {
        throw new BerthError('invalid', `only an old object store is kept after a move, not ${JSON.stringify(service)}`, 'berth services remove-old s3');
      }
      if (!o.yes) {
        if (!process.stdin.isTTY) {
          throw new BerthError('invalid', 'refusing to remove the old object store without confirmation', 'add --yes: berth services remove-old s3 --yes');
        }
        const { createInterface } = await import('node:readline/promises');
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        const answer = await rl.question('Remove the old MinIO, its container and all of its data, for good? Type "minio" to confirm: ');
        rl.close();
        if (answer.trim() !== 'minio') throw new BerthError('aborted', 'not confirmed; nothing was removed');
      }
      const r = await client(120_000).call<{ removed: string[]; note: string }>('DELETE', '/services/s3/old');
      out(!!globals().json, r, () => `removed ${r.removed.join(', ') || 'nothing (already gone)'}\n  ${r.note}`);
    }));

  type Conn = { database_url: string | null; redis_url: string | null; postgres: { container: string; user: string; password: string; db: string } | null;
    redis: { container: string; user: string; password: string } | null };
  const connections = (name: string) => client().call<Conn>('GET', `/apps/${enc(v.appName(name))}/services`);

  /** Runs a client inside a service container, interactive; the secret travels in the env, never argv. */
  async function execIn(container: string, secretVar: string, secret: string, argv: string[]): Promise<void> {
    const { spawn } = await import('node:child_process');
    const tty = process.stdin.isTTY ? ['-it'] : ['-i'];
    const child = spawn('docker', ['exec', ...tty, '-e', secretVar, container, ...argv], { stdio: 'inherit', env: { ...process.env, [secretVar]: secret } });
    const code = await new Promise<number>((res) => child.on('exit', (c) => res(c ?? 1)));
    process.exitCode = code;
  }

  const db = program.command('db').description("an app's PostgreSQL database");
  db.command('url <name>').description('print the connection string (it holds the password)')
    .action(action(async (name: string) => {
      const c = await connections(name);
      if (!c.database_url) throw new BerthError('not_found', `${name} has no database`);
      out(!!globals().json, { database_url: c.database_url }, () => c.database_url!);
    }));
  db.command('psql <name>').description("open psql on the app's database, as the app")
    .action(action(async (name: string) => {
      const c = await connections(name);
      if (!c.postgres) throw new BerthError('not_found', `${name} has no database`);
      await execIn(c.postgres.container, 'PGPASSWORD', c.postgres.password, ['psql', '-h', '127.0.0.1', '-U', c.postgres.user, c.postgres.db]);
    }));
  const redisCmd = program.command('redis').description("an app's Redis user");
  redisCmd.command('cli <name>').description('open redis-cli as the app (its keys only)')
    .action(action(async (name: string) => {
      const c = await connections(name);
      if (!c.redis) throw new BerthError('not_found', `${name} has no Redis user`);
      await execIn(c.redis.container, 'REDISCLI_AUTH', c.redis.password, ['redis-cli', '--user', c.redis.user]);
    }));
  redisCmd.command('url <name>').description('print the Redis URL (it holds the password)')
    .action(action(async (name: string) => {
      const c = await connections(name);
      if (!c.redis_url) throw new BerthError('not_found', `${name} has no Redis user`);
      out(!!globals().json, { redis_url: c.redis_url }, () => c.redis_url!);
    }));
}
