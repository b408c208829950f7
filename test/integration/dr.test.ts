// Disaster recovery: a platform with two apps built from source (test/fixtures/apps/orders: they
// serve their database's rows over HTTPS), one with objects in its bucket, makes a platform
// backup with the images to an off-site S3 target (a real MinIO outside berth) and copies its
// WAL archive there. Then the data root, every berth container and the apps' images are wiped
// (the daemon killed first), as when the server is lost, and `berth restore-host` from the S3
// target, with the backup key alone, brings it all back: the apps serve their rows over HTTPS with
// the certificates of before, up to the last archived segment, and the bucket's objects are
// back. Then once more from a directory, with the logical backups alone (--no-archive).
// What a fresh machine would add and this one cannot show: the layers the apps' image shares
// with the sample image it is built FROM stay in this Docker (the other tests use it); the
// apps' own layers and tags are removed and come back from the platform backup.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DaemonClient } from '../../src/daemon/client.js';
import { ExternalMinio } from '../helpers/external-minio.js';
import { copyFixtureApp, copyPackages } from '../helpers/fixture-apps.js';
import { s3Client } from '../helpers/s3-client.js';
import { docker, ensureSample, httpsGet, Platform, SAMPLE, until } from '../helpers/platform.js';

const p = new Platform();
const APPS = ['dra', 'drb'];
// the apps' source: the orders fixture with the pg client beside it
const src = copyFixtureApp('orders');
copyPackages(['pg'], src);
/** Objects in dra's bucket: a nested key, binary bytes, a name an archive might skip. */
const OBJECTS: Record<string, Buffer> = {
  'uploads/2026/photo.bin': Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256)),
  'notes/readme.txt': Buffer.from('kept in the bucket'),
  'scratch.tmp': Buffer.from('a .tmp object is an object too'),
};
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

/** The app's bucket as the app reaches it, from this host (the store container's address). */
async function bucketOf(app: string): Promise<{ client: ReturnType<typeof s3Client>; bucket: string }> {
  const env = await p.appEnv<Record<string, string>>(app, ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_REGION']);
  const u = new URL(env.S3_ENDPOINT!);
  const ip = Object.values((await docker.getContainer(u.hostname).inspect()).NetworkSettings.Networks)[0]!.IPAddress;
  return { client: s3Client(`http://${ip}:${u.port}`, env.S3_ACCESS_KEY!, env.S3_SECRET_KEY!, env.S3_REGION), bucket: env.S3_BUCKET! };
}

before(async () => {
  await p.up();
  await ensureSample(p);
  for (const [i, app] of APPS.entries()) {
    await p.ok(['apps', 'create', app, '--domain', `${app}.localhost`, '--no-redis']);
    const c = await asApp(app);
    await c.query('CREATE TABLE orders(id serial PRIMARY KEY, item text NOT NULL)');
    await c.query(`INSERT INTO orders(item) SELECT '${app} item ' || g FROM generate_series(1, ${(i + 1) * 25}) g`);
    await c.end();
    await p.ok(['deploy', app, '--build', src, '--build-arg', `BASE=${SAMPLE}`]);
  }
  const { client, bucket } = await bucketOf('dra');
  for (const [Key, Body] of Object.entries(OBJECTS)) await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
  await (await bucketOf('drb')).client.send(new PutObjectCommand({ Bucket: (await bucketOf('drb')).bucket, Key: 'left-out.txt', Body: 'x' }));
  await vm.start();
  const s3 = s3Client(vm.endpoint, vm.rootUser, vm.rootSecret);
  await s3.send(new CreateBucketCommand({ Bucket: 'dr-offsite' }));
  await p.ok(['backup', 'target', 's3', '--endpoint', vm.endpoint, '--bucket', 'dr-offsite', '--access-key', vm.rootUser, '--prefix', 'berth',
    '--secret-key-stdin'], { input: `${vm.rootSecret}\n` });
});

/** The keys on the target under a prefix, every page of the listing. */
async function keysUnder(prefix: string): Promise<string[]> {
  const s3 = s3Client(vm.endpoint, vm.rootUser, vm.rootSecret);
  const out: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: 'dr-offsite', Prefix: prefix, ContinuationToken: token }));
    out.push(...(r.Contents ?? []).map((o) => o.Key!));
    token = r.NextContinuationToken;
  } while (token);
  return out;
}

type Window = { base_backups: { label: string }[]; system_id: string };
/** A full base backup, once the one berth up started in the background is done. */
const fullBase = () => until(async () => {
  const r = await p.berth(['backup', 'pitr', '--base', '--full', '--json']);
  if (r.code === 0) return JSON.parse(r.stdout) as Window;
  assert.match(r.stderr, /a base backup is going on/, r.stderr);
  return false;
}, 300_000, 'a full base backup');

test('the archive on the target loses what pgBackRest expired (two full backups kept), once the rest is there', async () => {
  const first = await fullBase();
  await p.ok(['backup', 'pitr', '--push']);
  const labelsThere = async (id: string) => [...new Set((await keysUnder(`berth/_pitr/${id}/backup/berth/`))
    .map((k) => k.split('/')[5]!).filter((l) => /^\d{8}-\d{6}F/.test(l)))].sort();
  const oldest = first.base_backups[0]!.label;
  assert.ok((await labelsThere(first.system_id)).includes(oldest), 'the first full backup never reached the target');
  let w = first;
  for (let i = 0; i < 2; i++) w = await fullBase();
  const kept = w.base_backups.map((b) => b.label).sort();
  assert.ok(!kept.includes(oldest), `pgBackRest kept ${oldest}: ${kept.join(' ')}`);
  await p.ok(['backup', 'pitr', '--push']);
  assert.deepEqual(await labelsThere(w.system_id), kept, 'the target holds other full backups than the repository');
});
after(async () => {
  await vm.stop();
  await p.destroy();
  await removeAppImages();
  rmSync(keep, { recursive: true, force: true });
  rmSync(src, { recursive: true, force: true });
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
  assert.ok(await removeAppImages() > 0, 'no app image to remove');
}

/** The apps' built images, every tag and the layers of their own (not the sample's under them). */
async function removeAppImages(): Promise<number> {
  const ids = new Set<string>();
  for (const app of APPS) for (const i of await docker.listImages({ filters: { reference: [`berth/${app}`] } })) ids.add(i.Id);
  for (const id of ids) await docker.getImage(id).remove({ force: true });
  return ids.size;
}

/** Every app serves its `rows[i]` orders over HTTPS, with a certificate of the CA of before (the
 *  app reads them from its database at each request). */
async function serves(rows: number[]): Promise<void> {
  const ca = readFileSync(join(keep, 'root.crt'));
  for (const [i, app] of APPS.entries()) {
    const res = await until(async () => {
      const x = await httpsGet(p.httpsPort, `${app}.localhost`, '/orders', { ca }); // until() retries what throws
      return x.status === 200 ? x : false;
    }, 60_000, `${app} to serve its orders over HTTPS`);
    assert.equal((JSON.parse(res.body) as { count: number }).count, rows[i], `${app} serves ${res.body}`);
  }
}

/** dra's bucket holds OBJECTS byte for byte; drb's (not in the platform backup) is empty. */
async function bucketsBack(): Promise<void> {
  const { client, bucket } = await bucketOf('dra');
  const listed = (await client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => o.Key!).sort() ?? [];
  assert.deepEqual(listed, Object.keys(OBJECTS).sort());
  for (const [Key, body] of Object.entries(OBJECTS)) {
    const got = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body!.transformToByteArray());
    assert.ok(got.equals(body), `${Key} came back different`);
  }
  const b = await bucketOf('drb');
  assert.equal((await b.client.send(new ListObjectsV2Command({ Bucket: b.bucket }))).KeyCount, 0, 'drb\'s bucket was not to be in the backup');
}

const restoreHost = (args: string[], input = '') => p.berth(['restore-host', '--key', join(keep, 'backup.key'), '--json', ...args],
  { input, timeoutMs: 900_000 });

test('a wiped server comes back with restore-host: from the S3 target with the WAL archive (rows up to the last archived segment), '
  + 'and from a directory with the logical backups alone; every app serves its data over HTTPS', async () => {
  // a file in an app's volume, owned by the app's user (what a process writing there leaves)
  const volFile = join(p.root, 'volumes', 'dra', 'uploads', 'a.txt');
  mkdirSync(dirname(volFile), { recursive: true });
  writeFileSync(volFile, 'uploaded before the loss');
  chownSync(volFile, 1234, 1234);
  await p.ok(['backup', 'schedule', 'dra', '--platform-bucket']);
  type Made = { backup: { id: number; file: string }; apps: { app: string; backup: number | null; error?: string }[] };
  const made = await p.json<Made>(['backup', 'platform', '--images']);
  assert.deepEqual(made.apps.map((a) => [a.app, a.error]), APPS.map((a) => [a, undefined]));
  // written after the platform backup: only the WAL archive holds them
  const c = await asApp('dra');
  await c.query("INSERT INTO orders(item) SELECT 'late ' || g FROM generate_series(1, 5) g");
  await c.end();
  const pushed = await p.json<{ copies: { target: string; ok: boolean }[] }>(['backup', 'pitr', '--push']);
  assert.deepEqual(pushed.copies, [{ target: 'offsite', ok: true }]);
  const platformKeys = await keysUnder('berth/_platform/');
  assert.ok(platformKeys.includes(`berth/_platform/${made.backup.file}`), `the platform backup is not on the target: ${platformKeys.join(' ')}`);
  // the archive of this cluster, under its system id
  const ids = [...new Set((await keysUnder('berth/_pitr/')).map((k) => k.split('/')[2]))];
  assert.equal(ids.length, 1, `one cluster's archive: ${ids.join(' ')}`);
  const archive = `berth/_pitr/${ids[0]}/`;
  assert.ok((await keysUnder(`${archive}archive/berth/`)).length > 0, 'no WAL segment on the target');
  const info = new HeadObjectCommand({ Bucket: 'dr-offsite', Key: `${archive}backup/berth/backup.info` });
  await s3Client(vm.endpoint, vm.rootUser, vm.rootSecret).send(info); // throws when missing
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
  assert.deepEqual(out.apps.map((a) => [a.app, a.result]).sort(),
    [['dra', 'restored from the WAL archive; bucket restored'], ['drb', 'restored from the WAL archive']]);
  await serves([30, 50]);
  await bucketsBack();
  assert.equal(readFileSync(volFile, 'utf8'), 'uploaded before the loss');
  assert.deepEqual([statSync(volFile).uid, statSync(volFile).gid], [1234, 1234], 'the volume file lost its owner');
  // the archive goes on: archiving works on the restored cluster, whose archive goes to a directory
  // of its own on the target (never into the one it came from), which keeps what it had
  const before = (await keysUnder(archive)).length;
  assert.equal((await p.json<{ archive_failing: unknown }>(['backup', 'pitr', '--push'])).archive_failing, null);
  const dirs = [...new Set((await keysUnder('berth/_pitr/')).map((k) => k.split('/')[2]))].sort();
  assert.equal(dirs.length, 2, `the restored cluster's archive: ${dirs.join(' ')}`);
  assert.match(dirs[1]!, new RegExp(`^${ids[0]}-\\d{14}$`));
  assert.ok((await keysUnder(archive)).length >= before, 'the push took files from the archive the cluster came from');
  // it refuses to restore over a platform that is there
  const again = await restoreHost(s3Args, `${vm.rootSecret}\n`);
  assert.equal(again.code, 4, again.stderr);
  assert.match(again.stderr, /never overwrites/);

  // lost again; this time from the copy of <root>/backups, whose archive is damaged (its base
  // backups' files gone): restore-host fails at the cluster's restore and takes back all it made
  await wipe();
  const sets = join(keep, 'backups', '_pitr', 'backup', 'berth');
  for (const l of readdirSync(sets).filter((x) => /^\d{8}-\d{6}F/.test(x))) rmSync(join(sets, l, 'pg_data'), { recursive: true, force: true });
  const bad = await restoreHost(['--from', join(keep, 'backups')]);
  assert.equal(bad.code, 8, `restore-host: ${bad.stdout}\n${bad.stderr}`);
  assert.match(bad.stderr, /pgBackRest could not restore the cluster[^]*nothing of this attempt is left[^]*--no-archive/);
  for (const f of ['state', 'berth.json', 'services', 'caddy', 'volumes']) assert.ok(!existsSync(join(p.root, f)), `${f} was left in the root`);
  assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [`berth.instance=${p.instance}`] } }), [], 'a container was left');
  // the same command with the archive left aside: the logical backups
  const d = await restoreHost(['--from', join(keep, 'backups'), '--no-archive']);
  assert.equal(d.code, 0, `restore-host: ${d.stdout}\n${d.stderr}`);
  const dout = JSON.parse(d.stdout) as { from_archive: boolean; apps: { app: string; result: string }[] };
  assert.equal(dout.from_archive, false);
  for (const a of dout.apps) assert.match(a.result, /^restored:/, `${a.app}: ${a.result}`);
  await serves([25, 50]);
  await bucketsBack(); // as of the platform backup: the 5 later rows were only in the archive
});
