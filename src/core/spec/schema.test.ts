import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinPath } from './issues.js';
import { parseBerthDoc } from './parse.js';
import type { AppSpec } from './schema.js';
import { readYaml } from './yaml.js';

function parse(text: string) {
  const y = readYaml(text, 'berth.yml');
  assert.deepEqual(y.errors, []);
  return parseBerthDoc(y.value, 'berth.yml');
}
/** "path: message" of every problem, in the order found. */
function problems(text: string): string[] {
  const r = parse(text);
  assert.equal(r.ok, false, 'expected problems');
  return r.ok ? [] : r.errors.map((e) => `${joinPath(e.at)}: ${e.message}`);
}
function spec(text: string): AppSpec {
  const r = parse(text);
  if (!r.ok) assert.fail(r.errors.map((e) => `${joinPath(e.at)}: ${e.message}`).join('\n'));
  return r.spec;
}

test('the smallest berth.yml: web on 8000 with /health, one replica, every request to web', () => {
  const s = spec('processes:\n  web: {}\n');
  assert.deepEqual(s.processes.web, {
    command: null, entrypoint: null, image: null, build: null, port: 8000, health: { path: '/health', interval_ms: 2_000, timeout_ms: 5_000 },
    replicas: 1, stop_grace_period_ms: 10_000, resources: { cpus: null, memory_mb: null }, volumes: [], env: {}, depends_on: [],
  });
  assert.deepEqual(s.routes, [{ path: '/', kind: 'process', process: 'web', strip_prefix: false }]);
  assert.equal(s.release, null);
  assert.equal(JSON.stringify(JSON.parse(JSON.stringify(s))), JSON.stringify(s), 'plain data: survives JSON');
});

test('a full app: commands as strings or argv, durations, limits, volumes, routes, cron, redirects', () => {
  const s = spec(`
build: { context: ., dockerfile: docker/Dockerfile, args: { NODE_VERSION: 22, DEBUG: false }, target: prod }
processes:
  web:
    command: gunicorn -b 0.0.0.0:8000 'app:create_app()'
    health: { path: /up, interval: 5s, timeout: 2s }
    replicas: 2
    volumes: [uploads:/app/uploads]
  worker:
    command: [celery, -A, app.tasks, worker]
    stop_grace_period: 1m
    resources: { cpus: 0.5, memory: 1g }
    volumes: [{ volume: uploads, path: /app/uploads/, read_only: true }]
  api: { port: 3000, image: ghcr.io/acme/api:1.2 }
routes:
  /api/*: { process: api, strip_prefix: true }
  /admin: web
release: { command: alembic upgrade head, timeout: 5m }
cron:
  nightly: { schedule: "0 3 * * *", timezone: Europe/Berlin, command: python -m app.cleanup, timeout: 10m, process: worker }
domains: [example.com, Www.Example.com.]
redirects: [{ from: [old.example.com, example.org], to: example.com, code: 301 }]
headers: { Strict-Transport-Security: max-age=31536000 }
volumes: [uploads]
env: { LOG_LEVEL: info, WORKERS: 4 }
`);
  assert.deepEqual(s.build, { context: '.', dockerfile: 'docker/Dockerfile', args: { NODE_VERSION: '22', DEBUG: 'false' }, target: 'prod' });
  assert.deepEqual(s.processes.web!.command, ['gunicorn', '-b', '0.0.0.0:8000', 'app:create_app()']);
  assert.deepEqual(s.processes.web!.health, { path: '/up', interval_ms: 5000, timeout_ms: 2000 });
  assert.equal(s.processes.worker!.stop_grace_period_ms, 60_000);
  assert.deepEqual(s.processes.worker!.resources, { cpus: 0.5, memory_mb: 1024 });
  assert.deepEqual(s.processes.worker!.volumes, [{ volume: 'uploads', path: '/app/uploads', read_only: true }]);
  assert.equal(s.processes.worker!.port, null);
  assert.equal(s.processes.worker!.health, null, 'no port, no health check');
  assert.deepEqual(s.processes.api!.health?.path, '/health');
  assert.deepEqual(s.routes, [
    { path: '/admin', kind: 'process', process: 'web', strip_prefix: false },
    { path: '/api', kind: 'process', process: 'api', strip_prefix: true },
    { path: '/', kind: 'process', process: 'web', strip_prefix: false },
  ]);
  assert.deepEqual(s.release, { command: ['alembic', 'upgrade', 'head'], process: 'web', timeout_ms: 300_000 });
  assert.deepEqual(s.cron.nightly, { schedule: '0 3 * * *', timezone: 'Europe/Berlin', command: ['python', '-m', 'app.cleanup'], process: 'worker',
    timeout_ms: 600_000 });
  assert.deepEqual(s.domains, ['example.com', 'www.example.com']);
  assert.deepEqual(s.redirects, [{ from: ['old.example.com', 'example.org'], to: 'example.com', code: 301 }]);
  assert.deepEqual(s.env, { LOG_LEVEL: 'info', WORKERS: '4' });
});

test('type errors: every one, each with its path and what was found', () => {
  assert.deepEqual(problems(`
processes:
  web: { port: "80a", replicas: 1.5, command: [1], stop_grace_period: 10x }
  worker: { resources: { memory: 5t } }
domains: [example.com, "no"]
`), [
    'processes.web.command.0: expected a string, got the number 1',
    'processes.web.port: expected a port number (1-65535), got a string ("80a")',
    'processes.web.replicas: expected a whole number of replicas, got the number 1.5',
    'processes.web.stop_grace_period: "10x" is not a duration',
    'processes.worker.resources.memory: "5t" is not a memory size from 32m to 64g',
    'domains.1: "no" is not a valid domain name',
  ]);
  assert.deepEqual(problems('processes: [web]'), ['processes: expected a mapping (key: value), got a list']);
  assert.deepEqual(problems('cron: { x: { schedule: "@daily" } }'), ['cron.x.command: is required']);
});

test('unknown keys are errors at any depth, with the closest known key', () => {
  assert.deepEqual(problems(`
proceses: {}
processes:
  web: { helth: /x, ports: 8000, resources: { memroy: 1g }, zzzzzz: 1 }
static: { root: /app/dist, sap: true }
`), [
    'processes.web.resources.memroy: unknown key, did you mean memory?',
    'processes.web.helth: unknown key, did you mean health?',
    'processes.web.ports: unknown key, did you mean port?',
    'processes.web.zzzzzz: unknown key (known here: command, entrypoint, image, build, port, health, replicas, stop_grace_period, resources, volumes, env, '
      + 'depends_on)',
    'static.sap: unknown key, did you mean spa?',
    'proceses: unknown key, did you mean processes?',
  ]);
  assert.deepEqual(problems('services: { web: {} }'), ['services: unknown key, did you mean processes?']);
  assert.deepEqual(problems('processes: { web: { health: { path: /x, intreval: 5s } } }'),
    ['processes.web.health.intreval: unknown key, did you mean interval?']);
});

test('commands: shell quoting without a shell; what a shell would expand is refused with the fix', () => {
  assert.deepEqual(spec(`processes: { web: { command: "sh -c 'echo $HOME && exec app'" } }`).processes.web!.command, ['sh', '-c', 'echo $HOME && exec app']);
  const r = parse('processes: { web: { command: "npm run migrate && npm start" } }');
  assert.ok(!r.ok);
  assert.match(r.errors[0]!.message, /unquoted & is shell syntax; berth runs the command without a shell/);
  assert.match(r.errors[0]!.hint!, /list of words/);
  assert.deepEqual(problems('processes: { web: { command: "" } }'), ['processes.web.command: the command is empty; berth runs the command without a shell']);
  assert.deepEqual(problems('release: 5'), ['release: expected a release command: a command, or {command, process, timeout}']);
});

test('names: processes, reserved words, env keys berth sets', () => {
  assert.deepEqual(problems('processes: { Web_1: {}, run: {} }'), [
    'processes.Web_1: not a valid process name: use 1-20 lowercase letters, digits and hyphens, starting with a letter',
    'processes.run: run is the name of one-off containers (berth run): choose another process name',
  ]);
  assert.deepEqual(problems('env: { DATABASE_URL: x, 1X: y }'), [
    'env.DATABASE_URL: DATABASE_URL is set by berth and cannot be changed',
    'env.1X: "1X" is not a valid environment variable name',
  ]);
});

test('cross-field checks: routes, one-offs, volumes, depends_on, redirects', () => {
  assert.deepEqual(problems(`
processes:
  web: { depends_on: [wroker], volumes: [uplods:/u] }
  worker: { command: x }
routes: { /api: wrker, /jobs: worker }
release: { command: migrate, process: db }
volumes: [uploads]
`), [
    'processes.web.depends_on.0: no process named wroker, did you mean worker?',
    'processes.web.volumes.0: no volume named uplods, did you mean uploads?',
    'routes./api: no process named wrker, did you mean worker?',
    'routes./jobs: process worker has no port, so it cannot take requests',
    'release.process: no process named db (there are: web, worker)',
  ]);
  assert.deepEqual(problems('processes: { a: { depends_on: [b] }, b: { depends_on: [a] } }'),
    ['processes.a.depends_on: processes depend on each other in a circle: a -> b -> a']);
  assert.deepEqual(problems('processes: { a: {}, b: {} }\nrelease: migrate'), ['release.process: say which process runs it (one of a, b)']);
  assert.deepEqual(problems('processes: { web: { replicas: 0 }, w: { health: /x } }'), [
    "processes.web.replicas: web serves the app's domains: it needs at least 1 replica",
    'processes.w.health: a health check needs a port',
  ]);
  // the serving process by whatever name: the one the widest route goes to
  assert.deepEqual(problems('processes: { api: { port: 8000, replicas: 0 }, worker: { command: x, replicas: 0 } }\nroutes: { /: api }'), [
    "processes.api.replicas: api serves the app's domains: it needs at least 1 replica",
  ]);
  const redirects = '[{ from: a.com, to: b.com }, { from: [c.com, c.com], to: a.com }, { from: b.com, to: b.com }]';
  assert.deepEqual(problems(`domains: [a.com, a.com]\nredirects: ${redirects}`), [
    'domains.1: a.com is listed twice',
    "redirects.0.from: a.com is one of the app's domains: a domain either serves the app or redirects",
    'redirects.1.from.1: c.com already redirects',
    'redirects.2.from: b.com would redirect to itself',
  ]);
  assert.deepEqual(problems('headers: { X-A: "1", x-a: "2" }'), ['headers.x-a: the same header as X-A (names are case-insensitive)']);
});

test('cron: schedules and time zones are checked', () => {
  const cron = (schedule: string, tz = 'UTC') => `processes: { web: {} }\ncron: { job: { schedule: "${schedule}", timezone: ${tz}, command: x } }`;
  for (const ok of ['0 3 * * *', '*/15 * * * *', '0 0 1,15 * MON-FRI', '30 0 3 * * SUN', '@daily', '0 12 L * ?', '0 0 * JAN-MAR 7']) {
    assert.equal(parse(cron(ok)).ok, true, ok);
  }
  assert.deepEqual(problems(cron('0 3 * * 8')), ['cron.job.schedule: day of week: "8" is outside 0-7']);
  assert.deepEqual(problems(cron('0 3 * *')),
    ['cron.job.schedule: expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first, found 4']);
  assert.deepEqual(problems(cron('@sometimes')), ['cron.job.schedule: @sometimes is not one of @yearly, @annually, @monthly, @weekly, @daily, @hourly']);
  assert.deepEqual(problems(cron('5-1 * * * *')), ['cron.job.schedule: minute: the range 5-1 runs backwards']);
  assert.deepEqual(problems(cron('@daily', 'Mars/Base')), ['cron.job.timezone: "Mars/Base" is not a time zone']);
});

test('static sites: at / with web behind a route, or beside web; one source of files', () => {
  const s = spec(`
processes: { api: { port: 3000 } }
static: { root: /app/dist/, spa: true, image: acme/frontend:3 }
routes: { /api/*: { process: api, strip_prefix: true } }
`);
  assert.deepEqual(s.static, { root: '/app/dist', path: '/', process: null, image: 'acme/frontend:3', build: null, spa: true });
  assert.deepEqual(s.routes, [{ path: '/api', kind: 'process', process: 'api', strip_prefix: true }, { path: '/', kind: 'static' }]);
  const both = spec('processes: { web: {} }\nstatic: { root: /srv, path: /docs, process: web }');
  assert.deepEqual(both.routes.map((r) => r.path), ['/docs', '/']);
  assert.deepEqual(problems('static: { root: app/dist, image: a, build: . }'), ['static.root: "app/dist" is not an absolute path inside the image']);
  assert.deepEqual(problems('static: { root: /d, image: a, build: . }'), ['static: give one of process, image or build: where the files come from']);
  assert.deepEqual(problems('processes: { api: { port: 1 } }\nstatic: { root: /d }\nroutes: { /: api }'),
    ['routes./: static serves /: route the process elsewhere or move static.path']);
});

test('upstream apps: a URL and nothing to run', () => {
  const s = spec('upstream: http://100.64.0.7:8080/\ndomains: [www.tublr.com]');
  assert.deepEqual(s.upstream, { url: 'http://100.64.0.7:8080', health: null });
  assert.deepEqual(s.routes, []);
  assert.deepEqual(spec('upstream: { url: "https://10.0.0.2", health: /ping }').upstream!.health?.path, '/ping');
  assert.deepEqual(problems('upstream: http://x:1\nprocesses: { web: {} }\nbuild: .'), [
    'processes: not allowed with upstream: an upstream app is only a route to a service outside berth',
    'build: not allowed with upstream: an upstream app is only a route to a service outside berth',
  ]);
  assert.deepEqual(problems('upstream: ftp://x'), ['upstream: ftp: is not http: or https:']);
  assert.deepEqual(problems('upstream: http://u:p@x:1'), ["upstream: credentials in the URL would be sent to every request's logs: leave them out"]);
  assert.deepEqual(problems('upstream: http://x:1/app'), ['upstream: an upstream is a host and port, without a path']);
});

test('builds: a context path or a mapping; no URLs or absolute paths', () => {
  assert.deepEqual(spec('processes: { web: { build: ./app/ } }').processes.web!.build, { context: 'app', dockerfile: null, args: {}, target: null });
  assert.deepEqual(problems('build: https://github.com/acme/app.git'),
    ['build: "https://github.com/acme/app.git" is a URL; berth builds from a directory of the repository']);
  assert.deepEqual(problems('build: /srv/app'), ['build: "/srv/app" is absolute']);
  assert.deepEqual(problems('build: { context: ., target: "a b" }'), ['build.target: not a build stage name']);
});
