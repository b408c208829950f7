// Disaster recovery: a platform with two apps serving over HTTPS, each with rows in its
// database, makes a platform backup to an off-site S3 target (a real MinIO outside berth). Then
// the data root and every berth container are wiped (the daemon killed first), as when the
// server is lost, and `berth restore-host` from the S3 target, with the backup key alone, brings
// it all back: the apps serve over HTTPS with the certificates of before, their rows are there.
// What a fresh machine would add and this one cannot show: the app images are still in this
// Docker (a new machine pulls or builds them: README, restore-host).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { CreateBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DaemonClient } from '../../src/daemon/client.js';
import { ExternalMinio } from '../helpers/external-minio.js';
import { s3Client } from '../helpers/s3-client.js';
import { docker, ensureSample, httpsGet, Platform, SAMPLE, until } from '../helpers/platform.js';

const p = new Platform();
const APPS = ['dra', 'drb'];
const vm = new ExternalMinio(p, 'bridge');
const keep = mkdtempSync(join(tmpdir(), 'berth-dr-'));
type Conn = { postgres: { user: string; password: string; db: string } };

async function asApp(app: string): Promise<pg.Client> {
  const c = (await new DaemonClient(`${p.root}/run/berth.sock`).call<Conn>('GET', `/apps/${app}/services`)).postgres;
  const ip = (await docker.getContainer(`${p.instance}-postgres`).inspect()).NetworkSettings.Networks[p.instance]!.IPAddress;
  const client = new pg.Client({ host: ip, port: 5432, user: c.user, password: c.password, database: c.db, connectionTimeoutMillis: 10_000 });
  await client.connect();
  return client;
}

before(async () => {
  await p.up();
  await ensureSample(p);
  for (const [i, app] of APPS.entries()) {
    await p.ok(['apps', 'create', app, '--domain', `${app}.localhost`, '--no-redis', '--no-bucket']);
    await p.ok(['deploy', app, '--image', SAMPLE]);
    const c = await asApp(app);
    await c.query('CREATE TABLE orders(id serial PRIMARY KEY, item text NOT NULL)');
    await c.query(`INSERT INTO orders(item) SELECT '${app} item ' || g FROM generate_series(1, ${(i + 1) * 25}) g`);
    await c.end();
  }
  await vm.start();
});
after(async () => {
  await vm.stop();
  await p.destroy();
  rmSync(keep, { recursive: true, force: true });
});

test('a wiped server comes back from the S3 target with restore-host: every app serves its restored data over HTTPS', async () => {
  const s3 = s3Client(vm.endpoint, vm.rootUser, vm.rootSecret);
  await s3.send(new CreateBucketCommand({ Bucket: 'dr-offsite' }));
  await p.ok(['backup', 'target', 's3', '--endpoint', vm.endpoint, '--bucket', 'dr-offsite', '--access-key', vm.rootUser, '--prefix', 'berth',
    '--secret-key-stdin'], { input: `${vm.rootSecret}\n` });
  const made = await p.json<{ backup: { id: number; file: string }; apps: { app: string; backup: number | null; error?: string }[] }>(['backup', 'platform']);
  assert.deepEqual(made.apps.map((a) => [a.app, a.error]), APPS.map((a) => [a, undefined]));
  const keys = (await s3.send(new ListObjectsV2Command({ Bucket: 'dr-offsite', Prefix: 'berth/' }))).Contents?.map((o) => o.Key) ?? [];
  assert.ok(keys.includes(`berth/_platform/${made.backup.file}`), `the platform backup is not on the target: ${keys.join(' ')}`);
  // what the operator kept away from the server: the backup key; and what the test checks with: the CA of before
  copyFileSync(join(p.root, 'state', 'backup.key'), join(keep, 'backup.key'));
  const caRoot = join(p.root, 'caddy', 'data', 'caddy', 'pki', 'authorities', 'local', 'root.crt');
  copyFileSync(caRoot, join(keep, 'root.crt'));

  // the server is lost: daemon, every berth container and network, the data root
  p.killDaemon('SIGKILL');
  const cs = await docker.listContainers({ all: true, filters: { label: [`berth.instance=${p.instance}`] } });
  await Promise.all(cs.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  const nets = await docker.listNetworks({ filters: { label: [`berth.instance=${p.instance}`] } });
  await Promise.all(nets.map((n) => docker.getNetwork(n.Id).remove()));
  if (!nets.some((n) => n.Name === p.instance)) await docker.getNetwork(p.instance).remove();
  rmSync(p.root, { recursive: true, force: true });
  assert.ok(!existsSync(p.root));

  const r = await p.berth(['restore-host', '--from', 's3://dr-offsite/berth', '--endpoint', vm.endpoint, '--access-key', vm.rootUser,
    '--secret-key-stdin', '--key', join(keep, 'backup.key'), '--json'], { input: `${vm.rootSecret}\n`, timeoutMs: 900_000 });
  assert.equal(r.code, 0, `restore-host: ${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as { apps: { app: string; result: string }[] };
  assert.deepEqual(out.apps.map((a) => a.app).sort(), APPS);
  for (const a of out.apps) assert.match(a.result, /^restored/, `${a.app}: ${a.result}`);

  const ca = readFileSync(join(keep, 'root.crt'));
  for (const [i, app] of APPS.entries()) {
    // over HTTPS, checked against the CA of before: the certificates came back with the platform
    const res = await until(async () => {
      const x = await httpsGet(p.httpsPort, `${app}.localhost`, '/', { ca }); // until() retries what throws
      return x.status === 200 ? x : false;
    }, 60_000, `${app} to serve over HTTPS`);
    assert.match(res.body, /hello/i);
    const c = await asApp(app);
    const n = Number((await c.query('SELECT count(*) AS n FROM orders')).rows[0].n);
    await c.end();
    assert.equal(n, (i + 1) * 25, `${app}'s rows are not back`);
  }
  // and it refuses to restore over a platform that is there
  const again = await p.berth(['restore-host', '--from', 's3://dr-offsite/berth', '--endpoint', vm.endpoint, '--access-key', vm.rootUser,
    '--secret-key-stdin', '--key', join(keep, 'backup.key')], { input: `${vm.rootSecret}\n` });
  assert.equal(again.code, 4, again.stderr);
  assert.match(again.stderr, /never overwrites/);
});
