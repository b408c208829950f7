// One app's bad certificate or bad route never takes other apps down: certificates are
// obtained per domain in the background, and routes change one at a time through the admin
// API, which refuses a bad change and keeps the running config.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CaddyAdmin } from '../../src/proxy/caddy/admin.js';
import { ensureSample, Platform, SAMPLE, sleep } from '../helpers/platform.js';

const p = new Platform();

before(async () => {
  // An ACME CA that never answers (on loopback): public domains cannot get a certificate.
  await p.up(['--acme-ca', 'https://127.0.0.1:9/directory', '--acme-email', 'ops@berth-test.org']);
  await ensureSample(p);
  await p.ok(['apps', 'create', 'good', '--domain', 'good.localhost']);
  await p.ok(['deploy', 'good', '--image', SAMPLE]);
});
after(() => p.destroy());

test('an app whose certificate cannot be obtained does not disturb the others', async () => {
  await p.ok(['apps', 'create', 'nocert', '--domain', 'shop.berth-nowhere.org']);
  await p.ok(['deploy', 'nocert', '--image', SAMPLE]);
  for (let i = 0; i < 10; i++) {
    assert.equal((await p.get('good.localhost')).status, 200);
    await sleep(200);
  }
  await assert.rejects(p.get('shop.berth-nowhere.org'), /alert|handshake|socket/i);
  const s = await p.json<{ apps: { name: string; status: string }[] }>(['status']);
  assert.deepEqual(s.apps.map((a) => [a.name, a.status]), [['good', 'running'], ['nocert', 'running']]);
});

test('a route Caddy refuses leaves every running route as it was', async () => {
  const admin = new CaddyAdmin(join(p.root, 'run', 'caddy', 'admin.sock'));
  const before = await admin.ok<unknown[]>('GET', '/config/apps/http/servers/berth/routes');
  const bad = { '@id': 'berth-app-nocert', match: [{ host: ['shop.berth-nowhere.org'] }], handle: [{ handler: 'no_such_handler' }] };
  await assert.rejects(admin.ok('PATCH', '/id/berth-app-nocert', bad), /caddy refused PATCH/);
  assert.deepEqual(await admin.ok('GET', '/config/apps/http/servers/berth/routes'), before);
  assert.equal((await p.get('good.localhost')).status, 200);
});
