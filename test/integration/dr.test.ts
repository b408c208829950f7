// Disaster recovery: a platform with two apps serving over HTTPS, each with rows in its
// database, makes a platform backup to an off-site S3 target (a real MinIO outside berth) and
// copies its WAL archive there. Then the data root and every berth container are wiped (the
// daemon killed first), as when the server is lost, and `berth restore-host` from the S3 target,
// with the backup key alone, brings it all back: the apps serve over HTTPS with the certificates
// of before, their rows are there, up to the last archived segment. Then once more from a
// directory, with the logical backups alone (--no-archive).
// What a fresh machine would add and this one cannot show: the app images are still in this
// Docker (a new machine pulls or builds them: README, restore-host).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DaemonClient } from '../../src/daemon/client.js';
import { ExternalMinio } from '../helpers/external-minio.js';
import { s3Client } from '../helpers/s3-client.js';
import { docker, ensureSample, httpsGet, Platform, SAMPLE, until } from '../helpers/platform.js';

const p = new Platform();
const APPS = ['dra', 'drb'];
// the apps' image under a tag of this test's own: the wipe removes it, as a new machine lacks it
const IMAGE = () => `berth/dr-${p.instance}:1`;
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
  await docker.getImage(SAMPLE).tag({ repo: IMAGE().split(':')[0], tag: '1' });
  for (const [i, app] of APPS.entries()) {
    await p.ok(['apps', 'create', app, '--domain', `${app}.localhost`, '--no-redis', '--no-bucket']);
    await p.ok(['deploy', app, '--image', IMAGE()]);
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
  // only the tag: the sample image stays for the other tests
  if ((await docker.listImages({ filters: { reference: [IMAGE()] } })).length) await docker.getImage(IMAGE()).remove();
  rmSync(keep, { recursive: true, force: true });
});

/** The server is lost: daemon, every berth container and network, the data root. */
async function wipe(): Promise<void> {
  p.killDaemon('SIGKILL');
  const cs = await docker.listContainers({ all: true, filters: { label: [`berth.instance=${p.instance}`] } });
  await Promise.all(cs.map((c) => docker.getContainer(c.Id).remove({ force: true })));
  const nets = await docker.listNetworks({ filters: { label: [`berth.instance=${p.instance}`] } });
  await Promise.all(nets.map((n) => docker.getNetwork(n.Id).remove()));
  if (!nets.some((n) => n.Name === p.instance) && (await docker.listNetworks({ filters: { name: [p.instance] } })).some((n) => n.Name === p.instance)) {
    await docker.getNetwork(p.instance).remove();
  }
  rmSync(p.root, { recursive: true, force: true });
  assert.ok(!existsSync(p.root));
  await docker.getImage(IMAGE()).remove(); // the tag alone (the sample image keeps its own)
}

/** Every app serves over HTTPS with a certificate of the CA of before, and holds `rows[i]` orders. */
async function serves(rows: number[]): Promise<void> {
  const ca = readFileSync(join(keep, 'root.crt'));
  for (const [i, app] of APPS.entries()) {
    const res = await until(async () => {
      const x = await httpsGet(p.httpsPort, `${app}.localhost`, '/', { ca }); // until() retries what throws
      return x.status === 200 ? x : false;
    }, 60_000, `${app} to serve over HTTPS`);
    assert.match(res.body, /hello/i);
    const c = await asApp(app);
    const n = Number((await c.query('SELECT count(*) AS n FROM orders')).rows[0].n);
    await c.end();
    assert.equal(n, rows[i], `${app}'s rows are not back`);
  }
}

const restoreHost = (args: string[], input = '') => p.berth(['restore-host', '--key', join(keep, 'backup.key'), '--json', ...args],
  { input, timeoutMs: 900_000 });

test('a wiped server comes back with restore-host: from the S3 target with the WAL archive (rows up to the last archived segment), '
  + 'and from a directory with the logical backups alone; every app serves its data over HTTPS', async () => {
  const s3 = s3Client(vm.endpoint, vm.rootUser, vm.rootSecret);
  await s3.send(new CreateBucketCommand({ Bucket: 'dr-offsite' }));
  await p.ok(['backup', 'target', 's3', '--endpoint', vm.endpoint, '--bucket', 'dr-offsite', '--access-key', vm.rootUser, '--prefix', 'berth',
    '--secret-key-stdin'], { input: `${vm.rootSecret}\n` });
  // a file in an app's volume, owned by the app's user (what a process writing there leaves)
  const volFile = join(p.root, 'volumes', 'dra', 'uploads', 'a.txt');
  mkdirSync(dirname(volFile), { recursive: true });
  writeFileSync(volFile, 'uploaded before the loss');
  chownSync(volFile, 1234, 1234);
  type Made = { backup: { id: number; file: string }; apps: { app: string; backup: number | null; error?: string }[] };
  const made = await p.json<Made>(['backup', 'platform', '--images']);
  assert.deepEqual(made.apps.map((a) => [a.app, a.error]), APPS.map((a) => [a, undefined]));
  // written after the platform backup: only the WAL archive holds them
  const c = await asApp('dra');
  await c.query("INSERT INTO orders(item) SELECT 'late ' || g FROM generate_series(1, 5) g");
  await c.end();
  const pushed = await p.json<{ copies: { target: string; ok: boolean }[] }>(['backup', 'pitr', '--push']);
  assert.deepEqual(pushed.copies, [{ target: 'offsite', ok: true }]);
  // (one listing per prefix: a listing holds 1,000 keys at most, and the archive's base backup alone has more)
  const keysUnder = async (prefix: string) =>
    (await s3.send(new ListObjectsV2Command({ Bucket: 'dr-offsite', Prefix: prefix }))).Contents?.map((o) => o.Key!) ?? [];
  const platformKeys = await keysUnder('berth/_platform/');
  assert.ok(platformKeys.includes(`berth/_platform/${made.backup.file}`), `the platform backup is not on the target: ${platformKeys.join(' ')}`);
  // the archive of this cluster, under its system id
  const ids = [...new Set((await keysUnder('berth/_pitr/')).map((k) => k.split('/')[2]))];
  assert.equal(ids.length, 1, `one cluster's archive: ${ids.join(' ')}`);
  const archive = `berth/_pitr/${ids[0]}/`;
  assert.ok((await keysUnder(`${archive}archive/berth/`)).length > 0, 'no WAL segment on the target');
  await s3.send(new HeadObjectCommand({ Bucket: 'dr-offsite', Key: `${archive}backup/berth/backup.info` })); // throws when missing
  // what the operator kept away from the server: the backup key (and a copy of <root>/backups); what the test checks with: the CA
  copyFileSync(join(p.root, 'state', 'backup.key'), join(keep, 'backup.key'));
  copyFileSync(join(p.root, 'caddy', 'data', 'caddy', 'pki', 'authorities', 'local', 'root.crt'), join(keep, 'root.crt'));
  cpSync(join(p.root, 'backups'), join(keep, 'backups'), { recursive: true });

  await wipe();
  const s3Args = ['--from', 's3://dr-offsite/berth', '--endpoint', vm.endpoint, '--access-key', vm.rootUser, '--secret-key-stdin'];
  const r = await restoreHost(s3Args, `${vm.rootSecret}\n`);
  assert.equal(r.code, 0, `restore-host: ${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as { from_archive: boolean; apps: { app: string; result: string }[] };
  assert.equal(out.from_archive, true);
  assert.deepEqual(out.apps.map((a) => [a.app, a.result]).sort(), APPS.map((a) => [a, 'restored from the WAL archive']));
  await serves([30, 50]);
  assert.ok(await docker.getImage(IMAGE()).inspect(), 'the app image did not come back from the platform backup');
  assert.equal(readFileSync(volFile, 'utf8'), 'uploaded before the loss');
  assert.deepEqual([statSync(volFile).uid, statSync(volFile).gid], [1234, 1234], 'the volume file lost its owner');
  // the archive goes on: archiving works on the restored cluster
  assert.equal((await p.json<{ archive_failing: unknown }>(['backup', 'pitr', '--push'])).archive_failing, null);
  // it refuses to restore over a platform that is there
  const again = await restoreHost(s3Args, `${vm.rootSecret}\n`);
  assert.equal(again.code, 4, again.stderr);
  assert.match(again.stderr, /never overwrites/);

  // lost again; this time from the copy of <root>/backups, the archive left aside: the logical backups
  await wipe();
  const d = await restoreHost(['--from', join(keep, 'backups'), '--no-archive']);
  assert.equal(d.code, 0, `restore-host: ${d.stdout}\n${d.stderr}`);
  const dout = JSON.parse(d.stdout) as { from_archive: boolean; apps: { app: string; result: string }[] };
  assert.equal(dout.from_archive, false);
  for (const a of dout.apps) assert.match(a.result, /^restored:/, `${a.app}: ${a.result}`);
  await serves([25, 50]); // as of the platform backup: the 5 later rows were only in the archive
});
