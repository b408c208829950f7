// Shared services: each app gets its own PostgreSQL database and role, Redis ACL user and
// bucket; one app's credentials cannot reach another app's data. Provisioning is idempotent
// and repairs what was lost, with the credentials berth already stored.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createClient } from '@redis/client';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.js';
import { Cipher } from '../../src/lib/secrets.js';
import { openDb } from '../../src/state/db.js';
import { Store } from '../../src/state/store.js';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Load } from '../helpers/load.js';
import { s3Client } from '../helpers/s3-client.js';
import { docker, ensureSample, Platform, SAMPLE, sleep, until } from '../helpers/platform.js';

const p = new Platform();
type Conn = { database_url: string; redis_url: string; postgres: { user: string; password: string; db: string }; redis: { user: string; password: string; prefix: string } };

async function ipOf(service: string): Promise<string> {
  const info = await docker.getContainer(`${p.instance}-${service}`).inspect();
  return info.NetworkSettings.Networks[p.instance]!.IPAddress;
}
/** The app's DATABASE_URL, pointed at the container's address (the host cannot resolve its name). */
async function pgAs(c: Conn, db = c.postgres.db): Promise<pg.Client> {
  const client = new pg.Client({ host: await ipOf('postgres'), port: 5432, user: c.postgres.user, password: c.postgres.password, database: db, connectionTimeoutMillis: 5000 });
  await client.connect();
  return client;
}
async function redisAs(c: Conn) {
  const r = createClient({ socket: { host: await ipOf('redis'), port: 6379, reconnectStrategy: false }, username: c.redis.user, password: c.redis.password });
  r.on('error', () => undefined);
  await r.connect();
  return r;
}
/** The S3 key the app's serving container holds, and the store's address. */
async function s3KeyOf(app: string) {
  const env = (await docker.getContainer(`${p.instance}-${app}-web`).inspect()).Config.Env;
  const get = (k: string) => env.find((e) => e.startsWith(`${k}=`))!.slice(k.length + 1);
  return { accessKey: get('S3_ACCESS_KEY'), secretKey: get('S3_SECRET_KEY'), ip: await ipOf('s3') };
}
const conn = (app: string) => new DaemonClient(`${p.root}/run/berth.sock`).call<Conn>('GET', `/apps/${app}/services`);

/** The services' admin passwords, read from berth's state as root can (to break things on purpose). */
function adminPassword(service: string): string {
  const store = new Store(openDb(join(p.root, 'state', 'berth.db')));
  try {
    return Cipher.fromKeyFile(join(p.root, 'state', 'master.key')).decryptJSON<{ password: string }>(store.getService(service)!.secret).password;
  } finally {
    store.db.close();
  }
}

before(async () => {
  await p.up();
  await ensureSample(p);
  await p.ok(['apps', 'create', 'alpha', '--domain', 'alpha.localhost']);
  await p.ok(['apps', 'create', 'beta', '--domain', 'beta.localhost']);
});
after(() => p.destroy());

test('berth services shows each service running with its version', async () => {
  const s = await p.json<{ service: string; state: string; version?: string }[]>(['services']);
  assert.deepEqual(s.map((x) => [x.service, x.state]), [['postgres', 'running'], ['redis', 'running'], ['s3', 'running']]);
  assert.match(s[0]!.version!, /^15\./);
  assert.match(s[1]!.version!, /^7\./);
});

test('a release receives its connection settings, and they work from inside the app', async () => {
  await p.ok(['deploy', 'alpha', '--image', SAMPLE]);
  const env = await p.appEnv('alpha', ['DATABASE_URL', 'REDIS_URL', 'REDIS_KEY_PREFIX', 'S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY', 'S3_SECRET_KEY',
    'S3_REGION']);
  const a = await conn('alpha');
  assert.equal(env.DATABASE_URL, a.database_url);
  assert.match(env.DATABASE_URL, new RegExp(`^postgres://app_alpha_a:[A-Za-z0-9_-]{32}@${p.instance}-postgres:5432/app_alpha$`));
  assert.match(env.REDIS_URL, new RegExp(`^redis://app-alpha\\.a:[A-Za-z0-9_-]{32}@${p.instance}-redis:6379$`));
  assert.equal(env.REDIS_KEY_PREFIX, 'alpha:');
  assert.equal(env.S3_BUCKET, 'app-alpha');
  assert.equal(env.S3_ENDPOINT, `http://${p.instance}-s3:9000`);
  assert.ok(env.S3_ACCESS_KEY && env.S3_SECRET_KEY && env.S3_REGION);
});

test('PostgreSQL: an app owns its database and schema (migrations work), and cannot reach another app\'s', async () => {
  const a = await conn('alpha');
  const b = await conn('beta');
  const ca = await pgAs(a);
  try {
    await ca.query('CREATE TABLE items (id serial primary key, name text)');
    await ca.query("INSERT INTO items(name) VALUES ('a1')");
    const owner = (await ca.query("SELECT tableowner FROM pg_tables WHERE tablename = 'items'")).rows[0].tableowner;
    assert.equal(owner, 'app_alpha', 'objects belong to the app\'s group role, whatever login created them');
  } finally {
    await ca.end();
  }
  await assert.rejects(pgAs(a, b.postgres.db), /permission denied for database "app_beta"/);
  await assert.rejects(pgAs(a, 'postgres'), /permission denied for database "postgres"/);
  await assert.rejects(pgAs({ ...a, postgres: { ...a.postgres, password: b.postgres.password } }), /password authentication failed/);
  const cb = await pgAs(b);
  try {
    await assert.rejects(cb.query('SELECT * FROM app_alpha.public.items'), /cross-database references are not implemented/);
  } finally {
    await cb.end();
  }
});

test('Redis: an app reads and writes only keys under its prefix, and no admin commands', async () => {
  const ra = await redisAs(await conn('alpha'));
  const rb = await redisAs(await conn('beta'));
  try {
    await ra.set('alpha:greeting', 'hi');
    assert.equal(await ra.get('alpha:greeting'), 'hi');
    await rb.set('beta:secret', 'b');
    await assert.rejects(ra.get('beta:secret'), /NOPERM/);
    await assert.rejects(ra.set('beta:secret', 'overwritten'), /NOPERM/);
    await assert.rejects(ra.set('unprefixed', 'x'), /NOPERM/);
    await assert.rejects(ra.sendCommand(['FLUSHALL']), /NOPERM/);
    await assert.rejects(ra.sendCommand(['CONFIG', 'GET', '*']), /NOPERM/);
    await assert.rejects(ra.sendCommand(['KEYS', '*']), /NOPERM/);
    assert.equal(await rb.get('beta:secret'), 'b');
  } finally {
    await ra.quit();
    await rb.quit();
  }
});

test('rotation under load: no failed request; the live release uses the new credentials; the old ones are refused', async () => {
  const before = await conn('alpha');
  const keyBefore = await s3KeyOf('alpha');
  const load = new Load({ port: p.httpsPort, host: 'alpha.localhost', ca: p.caRoot }, 4);
  await sleep(300);
  const r = await p.json<{ rotated: string[]; deploy: { release: string } }>(['apps', 'rotate', 'alpha']);
  await sleep(300);
  const res = await load.stop();
  assert.equal(res.failed, 0, JSON.stringify(res.failures));
  assert.deepEqual(r.rotated, ['postgres', 'redis', 's3']);
  const after = await conn('alpha');
  assert.notEqual(after.postgres.password, before.postgres.password);
  assert.notEqual(after.redis.password, before.redis.password);
  const env = await p.appEnv('alpha', ['DATABASE_URL', 'REDIS_URL']);
  assert.deepEqual(env, { DATABASE_URL: after.database_url, REDIS_URL: after.redis_url }, 'the serving release still has the old credentials');
  const c = await pgAs(after);
  assert.equal((await c.query('SELECT name FROM items')).rows[0].name, 'a1', 'the data stayed reachable');
  await c.end();
  const rd = await redisAs(after);
  assert.equal(await rd.get('alpha:greeting'), 'hi');
  await rd.quit();
  await assert.rejects(pgAs(before), /password authentication failed|not permitted to log in/);
  await assert.rejects(redisAs(before), /WRONGPASS/);
  // object storage: a new Garage key serves, the old one is refused
  const keyAfter = await s3KeyOf('alpha');
  assert.notEqual(keyAfter.accessKey, keyBefore.accessKey);
  const list = (k: typeof keyAfter) =>
    s3Client(`http://${k.ip}:9000`, k.accessKey, k.secretKey, 'garage').send(new ListObjectsV2Command({ Bucket: 'app-alpha' }));
  await list(keyAfter);
  await assert.rejects(list(keyBefore), /InvalidAccessKeyId|Forbidden|AccessDenied|No such key/i);
});

test('apps create again changes no working credential, and repairs what was lost', async () => {
  const before = await conn('beta');
  const again = await p.json<{ created: boolean }>(['apps', 'create', 'beta', '--domain', 'beta.localhost']);
  assert.equal(again.created, false);
  assert.deepEqual(await conn('beta'), before);
  // Lose the login role and the Redis user behind berth's back, as after a crash mid-provisioning.
  const admin = new pg.Client({ host: await ipOf('postgres'), user: 'postgres', password: adminPassword('postgres'), database: 'postgres' });
  await admin.connect();
  await admin.query('DROP ROLE app_beta_a');
  await admin.end();
  const radmin = createClient({ socket: { host: await ipOf('redis'), port: 6379, reconnectStrategy: false }, username: 'default', password: adminPassword('redis') });
  await radmin.connect();
  await radmin.sendCommand(['ACL', 'DELUSER', before.redis.user]);
  await radmin.quit();
  await assert.rejects(pgAs(before), /password authentication failed|does not exist/);
  await assert.rejects(redisAs(before), /WRONGPASS/);
  await p.ok(['apps', 'create', 'beta', '--domain', 'beta.localhost']);
  assert.deepEqual(await conn('beta'), before, 'the repair kept the stored credentials');
  const cb = await pgAs(before);
  await cb.end();
  const rb = await redisAs(before);
  assert.equal(await rb.get('beta:secret'), 'b');
  await rb.quit();
});

test('apps created in parallel are all provisioned', async () => {
  const names = ['par1', 'par2', 'par3', 'par4'];
  const runs = await Promise.all(names.map((n) => p.berth(['apps', 'create', n, '--domain', `${n}.localhost`])));
  runs.forEach((r, i) => assert.equal(r.code, 0, `${names[i]}: ${r.stderr}`));
  for (const n of names) {
    const c = await pgAs(await conn(n));
    await c.end();
  }
});

test('--no-db, --no-redis and --no-bucket skip a service', async () => {
  const r = await p.json<{ services: string[] }>(['apps', 'create', 'gamma', '--domain', 'gamma.localhost', '--no-db', '--no-bucket']);
  assert.deepEqual(r.services, ['redis']);
  const c = await conn('gamma');
  assert.equal(c.database_url, null);
  assert.ok(c.redis_url);
  assert.equal((await p.berth(['db', 'url', 'gamma'])).code, 3);
});

async function adminPg(): Promise<pg.Client> {
  const c = new pg.Client({ host: await ipOf('postgres'), user: 'postgres', password: adminPassword('postgres'), database: 'postgres' });
  await c.connect();
  return c;
}

test('apps delete keeps the data; --purge takes a final dump first, then drops database, roles, keys and bucket', async () => {
  for (const app of ['delta', 'eps']) {
    await p.ok(['apps', 'create', app, '--domain', `${app}.localhost`]);
    const c = await conn(app);
    const db = await pgAs(c);
    await db.query('CREATE TABLE notes (body text)');
    await db.query("INSERT INTO notes VALUES ('keep me')");
    await db.end();
    const r = await redisAs(c);
    await r.set(`${app}:k`, 'v');
    await r.quit();
  }
  await p.ok(['apps', 'delete', 'delta', '--yes']);
  const admin = await adminPg();
  try {
    assert.equal((await admin.query("SELECT 1 FROM pg_database WHERE datname = 'app_delta'")).rowCount, 1, 'a plain delete dropped the database');
    const refused = await p.berth(['apps', 'delete', 'eps', '--purge']);
    assert.equal(refused.code, 2);
    assert.equal((await admin.query("SELECT 1 FROM pg_database WHERE datname = 'app_eps'")).rowCount, 1);
    const r = await p.json<{ final_dump: string }>(['apps', 'delete', 'eps', '--purge', '--yes']);
    assert.match(r.final_dump, new RegExp(`^${p.root}/backups/eps/final-.+\\.dump$`));
    const dump = readFileSync(r.final_dump);
    assert.equal(dump.subarray(0, 5).toString(), 'PGDMP', 'not a pg_dump custom-format file');
    assert.ok(dump.includes('notes') && dump.includes('TABLE DATA'), 'the dump lacks the table and its data');
    assert.equal((await admin.query("SELECT 1 FROM pg_database WHERE datname = 'app_eps'")).rowCount, 0);
    assert.equal((await admin.query("SELECT 1 FROM pg_roles WHERE rolname LIKE 'app\\_eps%'")).rowCount, 0);
  } finally {
    await admin.end();
  }
  const radmin = createClient({ socket: { host: await ipOf('redis'), port: 6379, reconnectStrategy: false }, username: 'default', password: adminPassword('redis') });
  await radmin.connect();
  assert.equal(await radmin.get('eps:k'), null);
  assert.equal(await radmin.get('delta:k'), 'v');
  assert.deepEqual((await radmin.sendCommand(['ACL', 'USERS']) as string[]).filter((u) => u.startsWith('app-eps')), []);
  await radmin.quit();
});

test('the daemon killed in the middle of provisioning: the same command finishes it with the stored credentials', async () => {
  const marker = join(p.root, 'run', 'paused');
  await p.restartDaemonWith({ BERTH_TEST_PAUSE_AT: 'provision' });
  const create = p.berth(['apps', 'create', 'crashy', '--domain', 'crashy.localhost']);
  await until(async () => existsSync(marker) && readFileSync(marker, 'utf8') === 'provision', 20_000, 'provisioning to pause');
  const stored = await conn('crashy'); // stored before being applied (the paused daemon still answers)
  p.killDaemon('SIGKILL');
  assert.notEqual((await create).code, 0);
  rmSync(marker, { force: true });
  await p.up(); // the daemon comes back without the hook
  await p.ok(['apps', 'create', 'crashy', '--domain', 'crashy.localhost']);
  const c = await conn('crashy'); // what berth stored ...
  assert.deepEqual(c, stored, 'the re-run made new credentials instead of applying the stored ones');
  const db = await pgAs(c); // ... is what the database accepts
  await db.end();
  const r = await redisAs(c);
  await r.quit();
});

test('object storage is Garage with a key per app, said by berth services, apps show and apps create', async () => {
  const s = await p.json<{ service: string; store?: string; isolation?: string; warnings?: string[] }[]>(['services']);
  const s3 = s.find((x) => x.service === 's3')!;
  assert.deepEqual([s3.store, s3.isolation, s3.warnings], ['garage', 'key per app', []]);
  const show = await p.ok(['apps', 'show', 'alpha']);
  assert.match(show.stdout, /bucket\s+app-alpha \(own key app-alpha-[0-9a-f]{6}\)/);
  assert.match(show.stdout, /object_storage\s+Garage: region "garage", path-style .*no bucket policies, no versioning, no object lock/);
  assert.doesNotMatch(show.stdout, /WARNING/);
});

/** The live release of alpha uses `kept`, which both services accept; `revoked` is refused. */
async function servesWith(kept: Conn, revoked: Conn): Promise<void> {
  const env = await p.appEnv('alpha', ['DATABASE_URL', 'REDIS_URL']);
  assert.deepEqual(env, { DATABASE_URL: kept.database_url, REDIS_URL: kept.redis_url });
  await (await pgAs(kept)).end();
  await (await redisAs(kept)).quit();
  await assert.rejects(pgAs(revoked), /password authentication failed|not permitted to log in/);
  await assert.rejects(redisAs(revoked), /WRONGPASS/);
}

/** Starts a rotation of alpha with the daemon paused at `step`, kills the daemon there, starts it again. */
async function rotationCutShortAt(step: string): Promise<Conn> {
  const marker = join(p.root, 'run', 'paused');
  const alive = () => new DaemonClient(`${p.root}/run/berth.sock`, 2000).alive();
  await p.restartDaemonWith({ BERTH_TEST_PAUSE_AT: step });
  const rotation = p.berth(['apps', 'rotate', 'alpha']);
  let ended: { code: number; stderr: string } | undefined;
  void rotation.then((r) => { ended = r; });
  const paused = await until(async () => (ended ? 'ended' : existsSync(marker) && readFileSync(marker, 'utf8') === step && 'paused'),
    60_000, `the rotation to pause at ${step}`);
  assert.equal(paused, 'paused', `the rotation ended before it paused at ${step}: exit ${ended?.code}: ${ended?.stderr}`);
  const mid = await conn('alpha'); // the new credentials, stored and applied beside the old ones
  p.killDaemon('SIGKILL');
  assert.notEqual((await rotation).code, 0, 'the CLI reported success although the daemon died');
  rmSync(marker, { force: true });
  p.startDaemon({});
  await until(alive, 30_000, 'the restarted daemon');
  return mid;
}

test('the daemon killed after a rotation\'s release went live: on restart the old credentials are revoked, nobody acting', async () => {
  const before = await conn('alpha');
  const mid = await rotationCutShortAt('settle');
  assert.notEqual(mid.postgres.password, before.postgres.password);
  const now = await conn('alpha');
  assert.deepEqual(now, mid, 'the restart did not keep the new credentials');
  await servesWith(now, before);
});

test('the daemon killed before a rotation\'s release: on restart the new credentials are taken back, the app keeps the old ones', async () => {
  const before = await conn('alpha');
  const mid = await rotationCutShortAt('rotate.added');
  assert.notEqual(mid.postgres.password, before.postgres.password);
  assert.deepEqual(await conn('alpha'), before, 'the restart did not return to the credentials the live release uses');
  await servesWith(before, mid);
});

test('services logs prints a service container\'s log; an unknown service is refused', async () => {
  const r = await p.ok(['services', 'logs', 'postgres', '-n', '200']);
  assert.match(r.stdout, /database system is ready to accept connections/);
  const bad = await p.berth(['services', 'logs', 'mysql']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown service "mysql"/);
});
