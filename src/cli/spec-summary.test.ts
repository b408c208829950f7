import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSpec } from '../core/spec/index.js';
import { specSummary } from './spec-summary.js';

test('berth spec check tells what the files describe: processes, routes, release, cron, domains, warnings', () => {
  const files: Record<string, string> = {
    'berth.yml': `
processes:
  web: { command: gunicorn app:app, replicas: 2 }
  worker: { command: [celery, -A, app, worker], resources: { memory: 1g, cpus: 0.5 } }
routes: { /api/*: { process: web, strip_prefix: true } }
static: { root: /app/dist, path: /docs, image: acme/docs:1 }
release: alembic upgrade head
cron: { nightly: { schedule: "0 3 * * *", command: bin/cleanup, timeout: 1h } }
domains: [example.com]
redirects: [{ from: www.example.com, to: example.com }]
env: { API_TOKEN: abc }
`,
  };
  const r = checkSpec({ file: 'berth.yml', readText: (p) => files[p] ?? null });
  assert.ok(r.ok);
  assert.equal(specSummary('berth.yml', r.files, r.spec, r.warnings), `berth.yml: valid

NAME    FROM             COMMAND               PORT  HEALTH   REPLICAS  LIMITS            VOLUMES
web     the app's image  gunicorn app:app      8000  /health  2         -                 -
worker  the app's image  celery -A app worker  -     -        1         0.5 cpu, 1024 MB  -

routes:
  /docs        static files /app/dist from acme/docs:1
  /api         web (without /api)
  /            web

release: alembic upgrade head (in web, timeout 10m)

cron:
  nightly  0 3 * * * (UTC)  bin/cleanup  (in web, timeout 1h)

domains: example.com
redirect: www.example.com -> example.com (308)
env: API_TOKEN

warnings (1):
  env.API_TOKEN: looks like a secret, kept in the app's description as plain text: berth config set keeps it encrypted`);
});
