// The berth command line. Thin: parse arguments, call the daemon (or, for `up`, the platform
// code), print the result.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BerthError, ValidationError } from '../lib/errors.js';
import { splitWords } from '../lib/shell-words.js';
import * as v from '../lib/validate.js';
import {
  AppCreateBody, AppUpdateBody, ConfigBody, DeployBody, DomainsBody, parseBody, RegistryBody, RollbackBody, RotateBody, ScaleBody,
} from '../daemon/bodies.js';
import { DaemonClient } from '../daemon/client.js';
import { pathsFor, rootFromEnv } from '../state/paths.js';
import { renderEvent } from './deploy-events.js';
import { buildSpecFrom, cancelOnInterrupt } from './build-options.js';
import { fail, out, table } from './output.js';
import { restoreHostCommand, upCommand, sampleCommand } from './platform-commands.js';
import { servicesCommands } from './services-commands.js';
import { type LimitOptions, limitsCommand, limitsFrom, withLimitOptions } from './limits-commands.js';
import { specCommands } from './spec-commands.js';
import { createDescribedApp, describedApp } from './described-app.js';
import { runCommands } from './run-commands.js';
import { cronCommands } from './cron-commands.js';
import { backupCommands } from './backup-commands.js';
import { confirmTyped } from './confirm.js';
import { daemonMain } from '../daemon/build.js';
import { installRoot } from '../lib/install.js';

const { version } = JSON.parse(readFileSync(join(installRoot(), 'package.json'), 'utf8')) as { version: string };

const program = new Command('berth')
  .description('A self-hosted app platform: apps behind Caddy, zero-downtime deploys, one-second rollbacks.')
  .version(version, '-V, --version', 'print berth\'s version')
  .option('--root <dir>', 'data root (default /data/berth, or $BERTH_ROOT)')
  .option('--json', 'machine-readable output')
  .showHelpAfterError()
  // Usage errors exit 2, like every other invalid input.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

type Globals = { root?: string; json?: boolean };
const globals = (): Globals => program.opts<Globals>();
const client = (timeoutMs?: number) => new DaemonClient(pathsFor(rootFromEnv(globals().root)).daemonSocket, timeoutMs);
const action = <A extends unknown[]>(fn: (...args: A) => Promise<void>) => async (...args: A) => {
  try { await fn(...args); } catch (e) { fail(e, !!globals().json); }
};
const enc = encodeURIComponent;
/** A count typed on the command line, as a number for the body's schema to check ('x' stays a string and is refused there). */
const count = (s: string | undefined): number | string | undefined => (s === undefined ? undefined : /^\d+$/.test(s) ? Number(s) : s);
const DELETE_TIMEOUT_MS = 30 * 60_000; // a purge dumps the database first

upCommand(program, globals, action);
restoreHostCommand(program, globals, action);
sampleCommand(program, action);

program.command('status').description('platform health, apps and running deploys')
  .action(action(async () => {
    const s = await client().call<{ daemon: { pid: number; rss_mb: number; uptime_s: number }; docker: { ok: boolean; engine?: string; error?: string };
      proxy: { ok: boolean; routes?: number; error?: string }; apps: Record<string, unknown>[]; deploys: Record<string, unknown>[];
      backups?: Record<string, { state: string; detail: string } | null> }>('GET', '/status');
    const platformBackups = Object.entries(s.backups ?? {}).filter(([, h]) => h).map(([k, h]) => `${k} ${h!.state} (${h!.detail})`);
    out(!!globals().json, s, () => [
      `daemon  pid ${s.daemon.pid}, ${s.daemon.rss_mb} MB, up ${s.daemon.uptime_s}s`,
      `docker  ${s.docker.ok ? `ok, ${s.docker.engine}` : `DOWN: ${s.docker.error}`}`,
      `proxy   ${s.proxy.ok ? `ok, ${s.proxy.routes} routes` : `DOWN: ${s.proxy.error}`}`,
      ...(platformBackups.length ? [`backups ${platformBackups.join('; ')}`] : []),
      '', table(s.apps, ['name', 'status', 'release', 'image', 'domains']),
      ...(s.deploys.length ? ['', 'running deploys:', table(s.deploys, ['id', 'app', 'kind', 'step', 'started_at', 'actor'])] : []),
    ].join('\n'));
  }));

const apps = program.command('apps').description('create, list, show and delete apps');
withLimitOptions(apps.command('create <name>').description('create an app with one or more domains'))
  .requiredOption('--domain <domain...>', 'a domain the app answers on (repeatable)')
  .option('--port <port>', 'port the app listens on', '8000')
  .option('--health-path <path>', 'HTTP path that answers 2xx when healthy', '/health')
  .option('--no-db', 'no PostgreSQL database for this app')
  .option('--redis <mode>', 'shared (default: a share of the shared Redis\'s memory) or dedicated (a small Redis of its own, with a hard limit)')
  .option('--no-redis', 'no Redis user for this app')
  .option('--no-bucket', 'no object storage bucket for this app')
  .option('--pg-connections <n>', 'PostgreSQL connections the app may hold (default: a share of max_connections, at most half)')
  .action(action(async (name: string, o: LimitOptions & {
    domain: string[]; port: string; healthPath: string; db: boolean; redis?: boolean | string; bucket: boolean; pgConnections?: string;
  }) => {
    const services = !o.db || o.redis === false || !o.bucket
      ? [...(o.db ? ['postgres'] : []), ...(o.redis !== false ? ['redis'] : []), ...(o.bucket ? ['s3'] : [])] : undefined;
    const body = {
      name, domains: o.domain, port: o.port, health_path: o.healthPath, services, pg_connections: count(o.pgConnections), limits: limitsFrom(o),
      ...(typeof o.redis === 'string' ? { redis: o.redis } : {}),
    };
    parseBody(AppCreateBody, body); // the daemon's own check, here too: bad input never leaves the machine it was typed on
    const r = await client(300_000).call<{ app: string; domains: string[]; created: boolean; resources: Record<string, string | null>; warnings?: string[] }>(
      'POST', '/apps', body);
    const held = Object.entries(r.resources).filter(([, x]) => x).map(([k, x]) => `  ${k.padEnd(14)} ${x}`);
    out(!!globals().json, r, () => [`${r.created ? 'created' : 'exists (its database, Redis user and bucket checked and repaired where needed):'} ${r.app} (${r.domains.join(', ')})`, ...held,
      ...(r.warnings ?? []).map((w) => `WARNING: object storage: ${w}`), `next: berth deploy ${r.app} --image REF`].join('\n'));
  }));
apps.command('list').alias('ls').description('list apps')
  .action(action(async () => {
    const r = await client().call<Record<string, unknown>[]>('GET', '/apps');
    out(!!globals().json, r, () => table(r, ['name', 'status', 'release', 'image', 'domains']));
  }));
apps.command('show <name>').description('show one app')
  .action(action(async (name: string) => {
    type Shown = Record<string, unknown> & { containers: Record<string, unknown>[]; resources: Record<string, string | null>; warnings?: string[] }
      & { limits: { memory_mb: number; cpus: number; pids: number; cap_add: string[] }; killed_for_memory: { at: string } | null }
      & { cron_failing: { job: string; state: string; exit_code: number | null }[] };
    const r = await client().call<Shown>('GET', `/apps/${enc(v.appName(name))}`);
    const l = r.limits;
    const fields: Record<string, unknown> = {
      ...r, ...r.resources, limits: `memory ${l.memory_mb} MB, cpus ${l.cpus}, pids ${l.pids}${l.cap_add.length ? `, +${l.cap_add.join(' +')}` : ''}`,
      oom: r.killed_for_memory ? `killed for passing its memory limit at ${r.killed_for_memory.at}` : null,
      cron: r.cron_failing.length ? `last run ${r.cron_failing.map((f) => `of ${f.job} ${f.state}${f.exit_code !== null ? ` (exit ${f.exit_code})` : ''}`)
        .join(', ')}: berth cron ${r.name as string} JOB --history` : null,
    };
    out(!!globals().json, r, () => [
      ...['name', 'domains', 'release', 'processes', 'image', 'digest', 'port', 'health_path', 'upstream', 'upstream_health', 'routes', 'limits',
        'oom', 'cron', 'config_keys', 'database', 'pg_connections', 'redis', 'redis_user', 'bucket', 'object_storage', 'created_at']
        .filter((k) => k !== 'upstream_health' || fields[k] !== undefined)
        .map((k) => `${k.padEnd(14)} ${Array.isArray(fields[k]) ? (fields[k] as string[]).join(', ') || '-' : fields[k] ?? '-'}`),
      ...(r.warnings ?? []).map((w) => `WARNING: object storage: ${w}`),
      '', table(r.containers, ['name', 'release', 'running', 'serving']),
    ].join('\n'));
  }));
apps.command('update <name>').description('change settings that apply without a new release')
  .option('--pg-connections <n>', "PostgreSQL connections the app may hold, or 'default' (applied at once; open sessions stay)")
  .action(action(async (name: string, o: { pgConnections?: string }) => {
    v.appName(name);
    const body = { pg_connections: o.pgConnections === 'default' ? null : count(o.pgConnections) };
    parseBody(AppUpdateBody, body);
    if (body.pg_connections === undefined) throw new BerthError('invalid', 'nothing to change', `berth apps update ${name} --pg-connections 20`);
    const r = await client(60_000).call<{ app: string; pg_connections: number | 'default' }>('PATCH', `/apps/${enc(name)}`, body);
    out(!!globals().json, r, () => `${r.app}: pg_connections ${r.pg_connections}`);
  }));
apps.command('delete <name>').alias('rm').description('delete an app: its route and containers; its database, Redis keys and bucket are kept unless --purge (asks first)')
  .option('-y, --yes', 'do not ask')
  .option('--purge', "also drop its database (after a final dump into <root>/backups/NAME), Redis keys and bucket")
  .action(action(async (name: string, o: { yes?: boolean; purge?: boolean }) => {
    v.appName(name);
    const what = o.purge ? 'its route, containers, database (a final dump is kept), Redis keys and bucket' : 'its route and its containers (its data is kept)';
    await confirmTyped({ yes: o.yes, question: `Delete app ${name}, ${what}?`, expect: name, refusal: `refusing to delete ${name} without confirmation`,
      hint: `add --yes: berth apps delete ${name}${o.purge ? ' --purge' : ''} --yes` });
    const r = await client(DELETE_TIMEOUT_MS).call<{ final_dump: string | null }>('DELETE', `/apps/${enc(name)}${o.purge ? '?purge=1' : ''}`);
    out(!!globals().json, r, () => `deleted ${name}${r.final_dump ? `; final dump of its database: ${r.final_dump}` : ''}`);
  }));

apps.command('rotate <name>').description('new database, Redis and object storage (MinIO) credentials, rolled out with zero downtime, then the old ones revoked')
  .option('--db', 'rotate the PostgreSQL password')
  .option('--redis', 'rotate the Redis password')
  .option('--s3', 'rotate the object storage key (MinIO: the app has a user of its own)')
  .option('--lock-timeout <duration>', 'wait this long for a running deploy', '0s')
  .action(action(async (name: string, o: { db?: boolean; redis?: boolean; s3?: boolean; lockTimeout: string }) => {
    const services = [...(o.db ? ['postgres'] : []), ...(o.redis ? ['redis'] : []), ...(o.s3 ? ['s3'] : [])];
    const body = { services: services.length ? services : undefined, lock_timeout: o.lockTimeout };
    parseBody(RotateBody, body, 'options');
    const r = await client().stream<{ rotated: string[]; deploy: { release: string } | null }>('POST', `/apps/${enc(v.appName(name))}/rotate`,
      body, globals().json ? () => undefined : renderEvent);
    out(!!globals().json, r, () => `rotated ${r.rotated.join(', ')}${r.deploy ? `; ${r.deploy.release} uses the new credentials, the old ones are revoked` : ''}`);
  }));

/** An app's domains: `berth apps domains ...` is the documented form; `berth domains ...`, the
 *  older one, stays as an alias (scripts use it). Both are built here, so they cannot drift. */
function domainCommands(domains: Command): void {
  domains.command('list <name>', { isDefault: true }).alias('ls').description('list the domains of an app')
    .action(action(async (name: string) => {
      const r = await client().call<{ domains: string[] }>('GET', `/apps/${enc(v.appName(name))}/domains`);
      out(!!globals().json, r, () => r.domains.join('\n'));
    }));
  for (const [verb, what] of [['add', 'add domains to an app'], ['remove', 'remove domains from an app']] as const) {
    domains.command(`${verb} <name> <domains...>`).aliases(verb === 'remove' ? ['rm'] : []).description(what)
      .action(action(async (name: string, list: string[]) => {
        v.appName(name);
        const body = { [verb]: list };
        parseBody(DomainsBody, body);
        const r = await client().call<{ domains: string[]; changed: boolean }>('PATCH', `/apps/${enc(name)}/domains`, body);
        out(!!globals().json, r, () => `${name}: ${r.domains.join(', ')}${r.changed ? '' : ' (unchanged)'}`);
      }));
  }
}
domainCommands(apps.command('domains').description("an app's domains: list, add, remove (one route change each)"));
domainCommands(program.command('domains').description('same as: berth apps domains'));

const config = program.command('config').description('app config (env vars), encrypted at rest');
config.command('set <name> <pairs...>').description('set KEY=VALUE pairs and roll out a release that uses them')
  .option('--no-deploy', 'store only; the next deploy picks it up')
  .option('--lock-timeout <duration>', 'wait this long for a running deploy', '0s')
  .action(action(async (name: string, pairs: string[], o: { deploy: boolean; lockTimeout: string }) => {
    const body = { set: v.envPairs(pairs), deploy: o.deploy, lock_timeout: o.lockTimeout };
    parseBody(ConfigBody, body);
    const r = await client().stream<{ keys: string[]; deploy: { release: string } | null }>('PATCH', `/apps/${enc(v.appName(name))}/config`, body, renderEvent);
    out(!!globals().json, r, () => `set ${r.keys.join(', ')}${r.deploy ? `; ${r.deploy.release} is live` : ' (no release rolled out)'}`);
  }));
config.command('unset <name> <keys...>').description('remove keys and roll out a release without them')
  .option('--no-deploy', 'store only')
  .option('--lock-timeout <duration>', 'wait this long for a running deploy', '0s')
  .action(action(async (name: string, keys: string[], o: { deploy: boolean; lockTimeout: string }) => {
    const body = { unset: keys, deploy: o.deploy, lock_timeout: o.lockTimeout };
    parseBody(ConfigBody, body);
    const r = await client().stream<{ keys: string[]; deploy: { release: string } | null }>('PATCH', `/apps/${enc(v.appName(name))}/config`, body, renderEvent);
    out(!!globals().json, r, () => `unset ${r.keys.join(', ')}${r.deploy ? `; ${r.deploy.release} is live` : ''}`);
  }));
config.command('list <name>').alias('ls').description('list config keys (values hidden unless --reveal)')
  .option('--reveal', 'print the values')
  .action(action(async (name: string, o: { reveal?: boolean }) => {
    const r = await client().call<Record<string, string>>('GET', `/apps/${enc(v.appName(name))}/config${o.reveal ? '?reveal=1' : ''}`);
    out(!!globals().json, r, () => Object.entries(r).map(([k, val]) => `${k}=${val}`).join('\n') || '(no config)');
  }));

program.command('deploy <name>').description('deploy a new release with zero downtime')
  .option('--image <ref>', 'image to deploy (default: the live image)')
  .option('--build [dir]', 'build the image from the Dockerfile in this directory (default: the current one) and deploy it')
  .option('--build-arg <name=value>', 'a build argument (repeatable)', (w: string, all: string[] = []) => [...all, w])
  .option('--target <stage>', 'the Dockerfile stage to build (default: the last one)')
  .option('--dockerfile <path>', 'the Dockerfile, relative to the build directory (default: Dockerfile)')
  .option('--port <port>', 'port the app listens on (default: as before, 8000)')
  .option('--health-path <path>', 'health check path (default: as before, /health)')
  .option('--timeout <duration>', 'how long the release may take to become healthy (default 60s)')
  .option('--lock-timeout <duration>', 'wait this long for another deploy of the app to finish', '0s')
  .option('--release-command <cmd>', "run this in a one-off container first, e.g. migrations (split into words by the shell's quoting rules; no shell runs it)")
  .option('--release-arg <word>', 'the release command one word at a time, exactly as given (repeatable; instead of --release-command)',
    (w: string, all: string[] = []) => [...all, w])
  .option('--release-timeout <duration>', 'how long the release command may run (default 10m)')
  .option('--process <name=cmd>', 'a process besides web, e.g. worker="node worker.js" (repeatable; shell quoting, no shell; name= removes it)',
    (w: string, all: string[] = []) => [...all, w])
  .option('--file <path>', "deploy what this berth.yml (or compose file) describes (default: ./berth.yml or ./docker-compose.yml when present)")
  .option('--compose <path>', 'deploy what this docker-compose.yml describes (its x-berth keys included)')
  .option('--dry-run', 'print the plan only')
  .option('--abort', 'cancel the running deploy of this app')
  .action(action(async (name: string, o: {
    image?: string; build?: string | true; buildArg?: string[]; target?: string; dockerfile?: string; file?: string; compose?: string;
    port?: string; healthPath?: string; timeout?: string; lockTimeout: string;
    releaseCommand?: string; releaseArg?: string[]; releaseTimeout?: string; dryRun?: boolean; abort?: boolean; process?: string[];
  }) => {
    v.appName(name);
    if (o.abort) {
      const r = await client().call<{ deploy: number }>('DELETE', `/apps/${enc(name)}/deploys/current`);
      return out(!!globals().json, r, () => `abort requested for deploy #${r.deploy}`);
    }
    const described = await describedApp(o);
    if (described && !o.dryRun) await createDescribedApp(client(300_000), name, described.spec);
    const body = {
      image: o.image, build: buildSpecFrom(o, resolve), port: o.port, health_path: o.healthPath, timeout: o.timeout,
      release_timeout: o.releaseTimeout, lock_timeout: o.lockTimeout, dry_run: o.dryRun,
      release_command: releaseArgv(o.releaseCommand, o.releaseArg), processes: processArgs(o.process), ...described,
    };
    parseBody(DeployBody, body);
    // Ctrl-C during a build cancels the deploy (the daemon goes on with a deploy whose client left)
    const interrupted = body.build || described ? cancelOnInterrupt(() => client().call('DELETE', `/apps/${enc(name)}/deploys/current`)) : undefined;
    type Deployed = { deploy: number; release: string; previous: string | null; ms: number; state: string; steps?: string[]; warnings: string[] };
    const r = await client().stream<Deployed>('POST', `/apps/${enc(name)}/deploys`, body, globals().json ? () => undefined : renderEvent)
      .finally(() => interrupted?.());
    out(!!globals().json, r, () => r.state === 'planned'
      ? `plan:\n${r.steps!.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}`
      : `${name} ${r.release} is live (deploy #${r.deploy}, ${(r.ms / 1000).toFixed(1)}s)${r.previous ? `; ${r.previous} stays warm for rollback` : ''}${r.warnings.length ? `\nwarnings:\n  ${r.warnings.join('\n  ')}` : ''}`);
  }));

/** `--process worker="node worker.js"` as the API's processes: argv each, null to remove. */
function processArgs(pairs: string[] | undefined): Record<string, { cmd: string[] } | null> | undefined {
  if (!pairs) return undefined;
  return Object.fromEntries(pairs.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new ValidationError('process', `${JSON.stringify(pair)} is not NAME=COMMAND`, 'e.g. --process worker="node worker.js"');
    const name = v.processName(pair.slice(0, eq), 'process');
    const line = pair.slice(eq + 1);
    return [name, line.trim() ? { cmd: splitWords(line, `process.${name}`) } : null];
  }));
}

program.command('scale <name> <counts...>').description('run more or fewer copies of a process, without a deploy (e.g. worker=3)')
  .option('--lock-timeout <duration>', 'wait this long for a running deploy', '5s')
  .action(action(async (name: string, counts: string[], o: { lockTimeout: string }) => {
    const processes = Object.fromEntries(counts.map((c) => {
      const m = /^([^=]+)=(\d+)$/.exec(c);
      if (!m) throw new ValidationError('counts', `${JSON.stringify(c)} is not PROCESS=COUNT`, 'e.g. berth scale APP worker=3');
      return [v.processName(m[1], 'process'), Number(m[2])];
    }));
    const body = { processes, lock_timeout: o.lockTimeout };
    parseBody(ScaleBody, body);
    const r = await client().call<{ release: string; processes: string; started: string[]; stopping: string[] }>(
      'POST', `/apps/${enc(v.appName(name))}/scale`, body);
    out(!!globals().json, r, () => [`${name} ${r.release} runs ${r.processes}`, ...r.started.map((s) => `  started ${s}`),
      ...r.stopping.map((s) => `  stopping ${s} (its grace period to finish)`)].join('\n'));
  }));

/** The release command as argv: typed as one line (shell quoting, no shell) or word by word. */
function releaseArgv(line: string | undefined, words: string[] | undefined): string[] | undefined {
  if (line !== undefined && words) throw new ValidationError('release_command', 'give --release-command or --release-arg, not both');
  return words ?? (line === undefined ? undefined : splitWords(line, 'release_command'));
}

program.command('rollback <name>').description('switch traffic back to a previous release')
  .option('--to <release>', 'release id such as v3 (default: the one before the live release)')
  .option('--lock-timeout <duration>', 'wait this long for a running deploy', '0s')
  .action(action(async (name: string, o: { to?: string; lockTimeout: string }) => {
    v.appName(name);
    const body = { to: o.to, lock_timeout: o.lockTimeout };
    parseBody(RollbackBody, body);
    const r = await client().stream<{ release: string; previous: string | null; ms: number }>('POST', `/apps/${enc(name)}/rollback`,
      body, globals().json ? () => undefined : renderEvent);
    out(!!globals().json, r, () => `${name} ${r.release} is live again (${(r.ms / 1000).toFixed(2)}s)`);
  }));

program.command('releases <name>').description('list the releases of an app')
  .action(action(async (name: string) => {
    const r = await client().call<Record<string, unknown>[]>('GET', `/apps/${enc(v.appName(name))}/releases`);
    out(!!globals().json, r, () => table(r.map((x) => ({ ...x, digest: (x.digest as string | null)?.split('@')[1]?.slice(0, 19) ?? (x.image_id as string | null)?.slice(0, 19) })),
      ['release', 'state', 'processes', 'image', 'digest', 'created_at', 'actor']));
  }));

program.command('logs <name>').description("print the app's logs")
  .option('-f, --follow', 'keep printing new lines')
  .option('-n, --tail <lines>', 'lines from the end', '100')
  .option('-p, --process <name>', 'a process besides web (e.g. worker): its first copy in the live release')
  .action(action(async (name: string, o: { follow?: boolean; tail: string; process?: string }) => {
    const proc = o.process ? `&process=${enc(v.processName(o.process))}` : '';
    const query = `tail=${Number(o.tail) || 100}${o.follow ? '&follow=1' : ''}${proc}`;
    await client().text(`/apps/${enc(v.appName(name))}/logs?${query}`, (s) => process.stdout.write(s));
  }));

program.command('audit [name]').description('every change: who, what, when, result')
  .option('--limit <n>', 'rows', '50')
  .action(action(async (name: string | undefined, o: { limit: string }) => {
    const q = new URLSearchParams({ limit: String(Number(o.limit) || 50), ...(name ? { app: v.appName(name) } : {}) });
    const r = await client().call<Record<string, unknown>[]>('GET', `/audit?${q}`);
    out(!!globals().json, r, () => table(r, ['at', 'actor', 'action', 'app', 'result', 'detail']));
  }));

const registry = program.command('registry').description('credentials for private registries');
registry.command('login <registry>').description('store credentials (checked with the registry, encrypted at rest)')
  .requiredOption('-u, --username <user>', 'user name')
  .addOption(new Option('--password-stdin', 'read the password from standard input').makeOptionMandatory())
  .action(action(async (reg: string, o: { username: string }) => {
    let password = '';
    for await (const chunk of process.stdin) password += chunk;
    password = password.replace(/\r?\n$/, '');
    if (!password) throw new BerthError('invalid', 'no password on standard input', `echo "$TOKEN" | berth registry login ${reg} -u USER --password-stdin`);
    const body = { registry: reg, username: o.username, password };
    parseBody(RegistryBody, body, 'options');
    const r = await client().call('POST', '/registries', body);
    out(!!globals().json, r, () => `logged in to ${reg} as ${o.username}`);
  }));

servicesCommands(program, { client, globals, action });
limitsCommand(apps, { client, globals, action });
specCommands(program, { globals, action });
runCommands(program, { client, globals, action });
cronCommands(program, { client, globals, action });
backupCommands(program, { client, globals, action });

program.command('daemon').description('run the berth daemon in the foreground (berth up starts it for you)')
  .action(action(async () => {
    process.argv.push('--root', rootFromEnv(globals().root));
    // by its installed path, never bundled into the CLI: the daemon is the module the supervisor runs
    await import(pathToFileURL(daemonMain()).href);
  }));

void program.parseAsync(process.argv).catch((e) => fail(e, !!globals().json));
