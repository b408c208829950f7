import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAppSpec } from '../load.js';
import { checkSpec } from '../resolve.js';
import type { AppSpec } from '../schema.js';

const FIXTURES = new URL('../../../../../test/fixtures/spec/', import.meta.url).pathname;

/** Checks files held in memory: { 'docker-compose.yml': '...' }. */
function check(files: Record<string, string>, file = 'docker-compose.yml', env: Record<string, string> = {}) {
  return checkSpec({ file, readText: (p) => files[p] ?? null, env });
}
function ok(files: Record<string, string>, file?: string, env?: Record<string, string>): { spec: AppSpec; warnings: string[] } {
  const r = check(files, file, env);
  if (!r.ok) assert.fail(r.issues.map((i) => `${i.file}: ${i.path}: ${i.message}`).join('\n'));
  return r;
}
function problems(files: Record<string, string>, file?: string, env?: Record<string, string>): string[] {
  const r = check(files, file, env);
  assert.equal(r.ok, false, 'expected problems');
  return r.ok ? [] : r.issues.map((i) => `${i.file}:${i.line ?? '-'}: ${i.path}: ${i.message}`);
}

test('Towlion: app (web, build ./app, /health), frontend, celery-worker on the same build; bundled platform services left out', () => {
  const r = checkAppSpec(`${FIXTURES}towlion`);
  if (!r.ok) assert.fail(JSON.stringify(r.issues));
  const { spec, warnings } = r;
  assert.deepEqual(Object.keys(spec.processes), ['web', 'frontend', 'celery-worker']);
  const web = spec.processes.web!;
  assert.deepEqual(web.build, { context: 'app', dockerfile: null, args: {}, target: null });
  assert.equal(web.port, 8000);
  assert.deepEqual(web.health, { path: '/health', interval_ms: 10_000, timeout_ms: 3_000 });
  assert.deepEqual(web.env, { SECRET_KEY: 'dev-only-secret', REDIS_HOST: 'redis', LOG_LEVEL: 'info' }, 'env_file read; DATABASE_URL is berth\'s');
  assert.deepEqual(web.depends_on, [], 'postgres and redis are berth\'s');
  const worker = spec.processes['celery-worker']!;
  assert.deepEqual(worker.build, web.build, 'the same image as the backend');
  assert.deepEqual(worker.command, ['celery', '-A', 'app.tasks', 'worker', '--loglevel=info']);
  assert.equal(worker.port, null);
  assert.equal(worker.replicas, 2);
  assert.equal(worker.stop_grace_period_ms, 90_000);
  assert.deepEqual(worker.resources, { cpus: 0.5, memory_mb: 512 });
  assert.deepEqual(spec.processes.frontend!.build, { context: 'frontend', dockerfile: null, args: { NEXT_PUBLIC_API_URL: '/api' }, target: null });
  assert.equal(spec.processes.frontend!.health?.path, '/', 'x-berth.processes.frontend, under its compose name');
  assert.deepEqual(spec.routes, [
    { path: '/api', kind: 'process', process: 'web', strip_prefix: false },
    { path: '/', kind: 'process', process: 'frontend', strip_prefix: false },
  ]);
  assert.deepEqual(spec.release, { command: ['alembic', 'upgrade', 'head'], process: 'web', timeout_ms: 600_000 });
  assert.equal(spec.cron.cleanup!.timezone, 'Europe/London');
  assert.deepEqual(spec.domains, ['uku.towlion.com']);
  assert.deepEqual(spec.volumes, [], 'the left-out services\' volumes go with them');
  for (const line of [
    "services.postgres: left out: berth's shared PostgreSQL replaces it: the app has a database of its own, and DATABASE_URL comes from berth",
    "services.redis: left out: berth's shared Redis replaces it: REDIS_URL and REDIS_KEY_PREFIX (the app's keys start with it) come from berth",
    "services.minio: left out: berth's object storage replaces it: the app has a bucket of its own, and S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY, "
      + 'S3_SECRET_KEY, S3_REGION come from berth',
    "services.caddy: left out: berth's Caddy replaces it: it routes the app's domains with TLS (domains, routes and redirects go in x-berth)",
    "services.app.environment.DATABASE_URL: set by berth (the app's own PostgreSQL database), left out",
    'services.app.environment.REDIS_HOST: points at redis, which berth leaves out: read REDIS_URL instead',
    "services.app.depends_on.postgres: postgres is left out: berth's PostgreSQL is always up",
    "services.app: runs as the process web: it serves the app's domains",
    "services.app.healthcheck.retries: not supported, ignored: a new release gets the deploy's timeout (berth deploy --timeout) to become healthy",
    'volumes.pgdata: not used by a process berth runs, dropped',
  ]) assert.ok(warnings.includes(line), `missing warning: ${line}\n${warnings.join('\n')}`);
});

test('long and short syntax, anchors, interpolation, and every key berth does not read reported by path', () => {
  const r = checkAppSpec(`${FIXTURES}shop`, { TAG: '1.4.2', REGISTRY: 'registry.example.com/acme' });
  if (!r.ok) assert.fail(JSON.stringify(r.issues));
  const { spec, warnings } = r;
  assert.deepEqual(Object.keys(spec.processes), ['web', 'beat'], 'debug has a profile, cache is berth\'s Redis');
  const web = spec.processes.web!;
  assert.equal(web.image, 'registry.example.com/acme/shop:1.4.2');
  assert.equal(web.port, 8000, 'the long syntax\'s target');
  assert.equal(web.health?.path, '/healthz', 'from the CMD-SHELL curl');
  assert.deepEqual(web.volumes, [{ volume: 'media', path: '/app/media', read_only: false }]);
  assert.deepEqual(web.env, { DJANGO_SETTINGS_MODULE: 'shop.settings', DEBUG: 'false', PRICE_PREFIX: '$', CACHE_URL: 'redis://cache:6379/1' });
  const beat = spec.processes.beat!;
  assert.deepEqual(beat.entrypoint, ['celery']);
  assert.deepEqual(beat.command, ['-A', 'shop', 'beat', '--schedule', '/tmp/celerybeat-schedule']);
  assert.deepEqual(beat.depends_on, ['web']);
  assert.equal(beat.resources.memory_mb, 256, '268435456 bytes');
  assert.deepEqual(spec.volumes, ['media']);
  for (const line of [
    "name: ignored: the app's name is the one given to berth",
    'services.web.restart: not supported, ignored: berth restarts processes itself',
    'services.web.privileged: not supported, ignored: apps run with the capabilities a web app needs; berth apps limits --cap-add adds one',
    'services.web.environment.SENTRY_DSN: has no value here and is not set in your environment: left out',
    "services.web.ports.0: host port 8080 is not opened: requests reach the process through Caddy, on the app's domains",
    "services.web.volumes.1: bind mount of ./static not supported, ignored: a release must not depend on the server's files; "
      + 'use a named volume (data:/app/data, declared under volumes)',
    'services.web.volumes.2: anonymous volume at /tmp/cache not supported, ignored: its data would not be kept across releases (give it a name)',
    'services.beat.deploy.mode: not supported, ignored',
    'services.beat.deploy.resources.reservations: not supported, ignored: berth sets limits',
    'services.beat.depends_on.web.condition: service_healthy not supported, ignored: processes are started, not waited for',
    'services.beat.networks.back.aliases: not supported, ignored',
    'services.debug: left out: it has profiles (debug), and compose starts it only when asked to (--profile)',
    "networks.front: not needed, ignored: an app's processes share the app's own network",
    "networks.proxy: external network, not joined: an app's processes share the app's own network, and reach berth's services through it",
    'services.web.environment.CACHE_URL: points at cache, which berth leaves out: read REDIS_URL instead',
  ]) assert.ok(warnings.includes(line), `missing warning: ${line}\n${warnings.join('\n')}`);
});

test('interpolation: defaults, required variables, $$, .env beside the compose file under the user\'s env', () => {
  const files = {
    'deploy/compose.yaml': `
services:
  web:
    image: \${IMAGE:-acme/web}:\${TAG-latest}
    environment:
      A: \${UNSET_VAR}
      B: "\${EMPTY:-fallback} \${EMPTY-kept-empty}"
      C: "$$HOME \${NESTED:-\${TAG}}"
      D: \${FROM_DOTENV}
      E: \${SET:+alt}
`,
    'deploy/.env': 'FROM_DOTENV=dotenv\nTAG=from-dotenv\n',
  };
  const { spec, warnings } = ok(files, 'deploy/compose.yaml', { EMPTY: '', TAG: '2.0', SET: 'x' });
  assert.equal(spec.processes.web!.image, 'acme/web:2.0', 'the user\'s env wins over .env');
  assert.deepEqual(spec.processes.web!.env, { A: '', B: 'fallback ', C: '$HOME 2.0', D: 'dotenv', E: 'alt' });
  assert.ok(warnings.includes('UNSET_VAR is not set: an empty string is used (first at services.web.environment.A; set it in your environment or in .env)'));
  assert.deepEqual(problems({ 'compose.yaml': 'services:\n  web:\n    image: "acme/web:${TAG:?give the version}"\n' }, 'compose.yaml'),
    ['compose.yaml:3: services.web.image: TAG is required: give the version (set it in your environment or in .env beside the compose file)']);
  assert.deepEqual(problems({ 'compose.yaml': 'services:\n  web:\n    image: "${TAG"\n' }, 'compose.yaml'),
    ['compose.yaml:3: services.web.image: ${ without a closing } (write $$ for a literal $)']);
});

test('problems in a compose file name the compose key and line, and all of them are listed', () => {
  assert.deepEqual(problems({
    'docker-compose.yml': `services:
  app:
    image: acme/app:1
    ports: ["8000"]
    deploy: { replicas: x, resources: { limits: { memory: 5T } } }
    command: npm run migrate && npm start
    environment: { "bad-key": 1 }
  worker:
    image: acme/app:1
    stop_grace_period: forever
x-berth:
  domains: [nope]
  procesess: {}
`,
  }), [
    'docker-compose.yml:5: services.app.deploy.replicas: expected a whole number of replicas, got a string ("x")',
    'docker-compose.yml:5: services.app.deploy.resources.limits.memory: "5T" is not a memory size from 32m to 64g',
    'docker-compose.yml:6: services.app.command: unquoted & is shell syntax; berth runs the command without a shell',
    'docker-compose.yml:7: services.app.environment.bad-key: "bad-key" is not a valid environment variable name',
    'docker-compose.yml:10: services.worker.stop_grace_period: "forever" is not a duration',
    'docker-compose.yml:12: x-berth.domains.0: "nope" is not a valid domain name',
    'docker-compose.yml:13: x-berth.procesess: unknown key, did you mean processes?',
  ]);
  assert.deepEqual(problems({ 'docker-compose.yml': 'services:\n  a: { image: x, ports: ["1"] }\n  b: { image: y, expose: [2] }\n' }),
    ["docker-compose.yml:-: x-berth.web: several services take requests (a, b): say which one serves the app's domains"]);
  assert.deepEqual(problems({ 'docker-compose.yml': 'services:\n  app: { image: x }\n  web: { image: y }\nx-berth: { web: app }\n' }), [
    "docker-compose.yml:3: services.web: the process web is the one serving the app's domains (app): rename this service, "
      + 'or make it that one with x-berth: { web: web }',
  ]);
  assert.deepEqual(problems({ 'docker-compose.yml': 'services:\n  app: { image: x }\nx-berth: { web: ap }\n' }),
    ['docker-compose.yml:3: x-berth.web: no service named ap, did you mean app?']);
  assert.deepEqual(problems({ 'docker-compose.yml': 'services:\n  app:\n    env_file: .env.prod\n    image: x\n' }),
    ['docker-compose.yml:3: services.app.env_file: .env.prod does not exist']);
  assert.deepEqual(problems({ 'docker-compose.yml': 'version: "3"\n' }), ['docker-compose.yml:-: services: is required: the services of the app']);
});

test('which service is web: x-berth says, else the only one with a port, else one named app/web/backend/...', () => {
  const web = (yml: string) => Object.keys(ok({ 'docker-compose.yml': yml }).spec.processes);
  assert.deepEqual(web('services:\n  api: { image: a, expose: ["3000"] }\n  jobs: { image: a }\n'), ['web', 'jobs']);
  assert.deepEqual(web('services:\n  backend: { image: a, ports: ["8000:8000"] }\n  admin: { image: b, ports: ["9000"] }\n'), ['web', 'admin']);
  assert.deepEqual(web('services:\n  site: { image: a, ports: ["80"] }\n  db: { image: mysql:8, ports: ["3306"] }\n'), ['web', 'db'],
    'a database is never the web');
  assert.deepEqual(web('services:\n  worker_1: { image: a }\n'), ['worker-1'], 'no port: no web, names in berth\'s form');
  assert.deepEqual(ok({ 'docker-compose.yml': 'services:\n  Jobs_A: { image: a }\n  db: { image: mariadb:11 }\n' }).warnings, [
    'services.db: runs as a process of the app, its data in its named volumes: berth provides PostgreSQL, Redis and object storage, not this',
    "services.Jobs_A: runs as the process jobs-a (berth's names are lowercase, with hyphens)",
  ]);
  assert.deepEqual(web('services:\n  ui: { image: a, expose: ["3000"] }\n  api: { image: b, expose: ["8000"] }\nx-berth: { web: ui }\n'), ['web', 'api']);
  const none = ok({ 'docker-compose.yml': 'services:\n  ui: { image: a, expose: ["3000"] }\nx-berth: { web: false }\n' }).spec;
  assert.deepEqual([Object.keys(none.processes), none.routes], [['ui'], []]);
});

test('berth.yml laid over the compose file it names: its keys win, problems point at the file that holds them', () => {
  const files = {
    'berth.yml': 'compose: ./docker-compose.yml\nprocesses:\n  worker: { replicas: 3 }\ndomains: [shop.example.com]\n',
    'docker-compose.yml': 'services:\n  app: { build: ., ports: ["8000"] }\n  worker: { build: ., command: [bin/worker] }\n'
      + 'x-berth: { domains: [old.example.com] }\n',
  };
  const { spec } = ok(files, 'berth.yml');
  assert.equal(spec.processes.worker!.replicas, 3);
  assert.deepEqual(spec.processes.worker!.command, ['bin/worker']);
  assert.deepEqual(spec.domains, ['shop.example.com']);
  assert.deepEqual(problems({ ...files, 'berth.yml': 'compose: ./docker-compose.yml\nprocesses:\n  worker: { replicas: -1, port: x }\n' }, 'berth.yml'), [
    'berth.yml:3: processes.worker.port: expected a port number (1-65535), got a string ("x")',
    'berth.yml:3: processes.worker.replicas: must be 0 or more',
  ]);
  assert.deepEqual(problems({ 'berth.yml': 'compose: ./nope.yml\n' }, 'berth.yml'), ['berth.yml:1: compose: nope.yml does not exist']);
});

test('odd shapes: null services, list environments, build args as a list, mem_limit and cpus, expose ranges, udp', () => {
  const { spec, warnings } = ok({
    'docker-compose.yml': `services:
  web:
    build: { context: ./svc, dockerfile: Dockerfile.prod, target: runtime, args: [VERSION=3, EMPTY], cache_from: [x] }
    environment: [A=1, B=two=2]
    expose: ["8000-8001", "9000/udp"]
    mem_limit: 1gb
    cpus: 1.5
  sidecar:
    image: busybox
    deploy: { replicas: 0 }
`,
  });
  assert.deepEqual(spec.processes.web!.build, { context: 'svc', dockerfile: 'Dockerfile.prod', args: { VERSION: '3' }, target: 'runtime' });
  assert.deepEqual(spec.processes.web!.env, { A: '1', B: 'two=2' });
  assert.equal(spec.processes.web!.port, 8000);
  assert.deepEqual(spec.processes.web!.resources, { cpus: 1.5, memory_mb: 1024 });
  assert.equal(spec.processes.sidecar!.replicas, 0);
  for (const w of ['services.web.build.cache_from: not supported, ignored', 'services.web.expose.0: a port range is not supported: 8000 is used',
    'services.web.expose.1: udp not supported, ignored: berth routes HTTP']) assert.ok(warnings.includes(w), `${w}\n${warnings.join('\n')}`);
});
