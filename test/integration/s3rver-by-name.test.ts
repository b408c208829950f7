// s3rver has no keys of its own and serves unsigned requests: berth runs it only when the
// operator names it (berth up --object-store s3rver), and then says on berth up, apps create,
// apps show and berth services that every app can read every bucket. It is never exposed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Platform } from '../helpers/platform.js';

const p = new Platform();
let up = '';
before(async () => { const r = await p.up(['--object-store', 's3rver']); up = r.stdout + r.stderr; });
after(() => p.destroy());

const warned = /WARNING: object storage: every app can read and write every bucket/;

test('berth up, apps create, apps show and berth services say that every app can read every bucket', async () => {
  assert.match(up, warned);
  const again = await p.up();
  assert.match(again.stdout + again.stderr, warned, 'said again on every berth up');
  const created = await p.ok(['apps', 'create', 'shop', '--domain', 'shop.localhost']);
  assert.match(created.stdout, warned);
  assert.match(created.stdout, /bucket\s+app-shop \(shared key: every app can read it\)/);
  assert.match((await p.ok(['apps', 'show', 'shop'])).stdout, warned);
  const services = await p.ok(['services']);
  assert.match(services.stdout, /WARNING: s3: every app can read and write every bucket/);
  const s = await p.json<{ service: string; store?: string; isolation?: string }[]>(['services']);
  assert.deepEqual(s.filter((x) => x.service === 's3').map((x) => [x.store, x.isolation]), [['s3rver', 'NONE: shared key']]);
});

test('the bundled s3rver is never exposed publicly', async () => {
  const r = await p.berth(['services', 'expose', 's3', '--domain', 'storage.localhost']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /s3rver, which lets in anyone/);
  assert.ok(!readFileSync(join(p.root, 'caddy', 'config', 'caddy.json'), 'utf8').includes('storage.localhost'), 'a route was made');
});

test('a platform whose object store is chosen keeps it: --object-store later changes nothing', async () => {
  await p.up(['--object-store', 'garage']);
  const s = await p.json<{ service: string; store?: string }[]>(['services']);
  assert.equal(s.find((x) => x.service === 's3')!.store, 's3rver');
});
