// Logical backups on a real platform: every app's database backed up (a test that fails if one
// is skipped), each file encrypted with age (unreadable without the key, readable and restorable
// with Debian's age and pg_restore by the README's commands), verified by restoring it into a
// scratch database no app may reach, and a truncated file, a flipped byte and a backup made for
// another key each reported as such.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { DaemonClient } from '../../src/daemon/client.js';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { ExternalMinio } from '../helpers/external-minio.js';
import { Load } from '../helpers/load.js';
import { s3Client } from '../helpers/s3-client.js';
import { docker, ensureSample, Platform, SAMPLE, sleep, until } from '../helpers/platform.js';

const p = new Platform();
const APPS = ['ba', 'bb', 'bc', 'bd', 'be'];
type Conn = { postgres: { user: string; password: string; db: string } };
interface Backup { id: number; app: string; file: string; size: number; stored: string[]; verify_state: string | null }
interface Restored { backup: number; db: string; previous_db: string; release: string | null; detail: string }
interface Verified { backup: number; state: string; detail: string; tables: number; rows: number }

const key = () => join(p.root, 'state', 'backup.key');
const fileOf = (b: Backup) => join(p.root, 'backups', b.app, b.file);
const sh = (cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) => new Promise<{ code: number; out: string; err: string }>((res) =>
  execFile(cmd, args, { env: { ...process.env, ...opts.env }, maxBuffer: 64 << 20 }, (e, out, err) => res({ code: e ? Number(e.code ?? 1) : 0, out, err })));

async function pgIp(): Promise<string> {
  return (await docker.getContainer(`${p.instance}-postgres`).inspect()).NetworkSettings.Networks[p.instance]!.IPAddress;
}
/** A client of the app's own database, as the app. */
async function asApp(app: string, database?: string): Promise<pg.Client> {
  const c = (await new DaemonClient(`${p.root}/run/berth.sock`).call<Conn>('GET', `/apps/${app}/services`)).postgres;
  const client = new pg.Client({
    host: await pgIp(), port: 5432, user: c.user, password: c.password, database: database ?? c.db, connectionTimeoutMillis: 10_000,
  });
  await client.connect();
  return client;
}

before(async () => {
  await p.up();
  for (const [i, app] of APPS.entries()) {
    await p.ok(['apps', 'create', app, '--domain', `${app}.localhost`, '--no-redis', '--no-bucket']);
    const c = await asApp(app);
    await c.query('CREATE TABLE notes(id serial PRIMARY KEY, body text NOT NULL)');
    await c.query(`INSERT INTO notes(body) SELECT 'note ' || g || ' of ${app}' FROM generate_series(1, ${(i + 1) * 10}) g`);
    await c.end();
  }
  // an app without a database: --all passes it by (a backup of it used to throw before the stream began)
  await p.ok(['apps', 'create', 'bz', '--domain', 'bz.localhost', '--no-db', '--no-redis', '--no-bucket']);
});
after(() => p.destroy());

let made: Backup[] = [];

test('berth backup create --all backs up every app\'s database, each file encrypted with age and proven written', async () => {
  const r = await p.json<{ backups: Backup[]; failed: unknown[] }>(['backup', 'create', '--all']);
  assert.deepEqual(r.failed, []);
  assert.deepEqual(r.backups.map((b) => b.app).sort(), APPS, 'an app was skipped');
  const none = await p.berth(['backup', 'create', 'bz']);
  assert.equal(none.code, 4, none.stderr);
  assert.match(none.stderr, /bz has no database to back up/);
  assert.ok(await new DaemonClient(`${p.root}/run/berth.sock`).alive(), 'the daemon died');
  made = r.backups;
  for (const b of made) {
    const head = Buffer.alloc(64);
    const fd = openSync(fileOf(b), 'r');
    readSync(fd, head, 0, 64, 0);
    closeSync(fd);
    assert.match(head.toString('latin1'), /^age-encryption\.org\/v1\n/, `${b.file} is not an age file`);
    assert.ok(!readFileSync(fileOf(b)).includes(`of ${b.app}`), 'plaintext rows in the backup file');
    assert.equal(statSync(fileOf(b)).size, b.size);
    assert.equal(statSync(join(p.root, 'backups', b.app)).mode & 0o777, 0o700);
  }
  assert.equal(statSync(key()).mode & 0o777, 0o600);
  const list = await p.json<Backup[]>(['backup', 'list', 'bc']);
  assert.deepEqual(list.map((b) => [b.id, b.stored, b.verify_state]), [[made.find((b) => b.app === 'bc')!.id, ['local'], null]]);
});

test('berth backup key says where the key is; export asks first, then prints the identity itself', async () => {
  const k = await p.json<{ path: string; recipient: string }>(['backup', 'key']);
  assert.equal(k.path, key());
  assert.match(k.recipient, /^age1[0-9a-z]+$/);
  const refused = await p.berth(['backup', 'key', 'export']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /refusing to print the backup key without confirmation[^]*--yes/);
  assert.doesNotMatch(refused.stdout + refused.stderr, /AGE-SECRET-KEY/);
  const exported = await p.ok(['backup', 'key', 'export', '--yes']);
  assert.equal(exported.stdout, readFileSync(key(), 'utf8'));
  assert.match(exported.stdout, /^AGE-SECRET-KEY-1[0-9A-Z]+$/m);
  const audit = await p.json<{ action: string }[]>(['audit']);
  assert.ok(audit.some((a) => a.action === 'backup.key.export'), 'the export is not audited');
});

test('a backup is read with Debian\'s age and the key alone, and restores with pg_restore (the README\'s commands); not without the key', async () => {
  const b = made.find((x) => x.app === 'bb')!;
  const plain = join(p.root, 'bb-by-hand.dump');
  const dec = await sh('age', ['--decrypt', '--identity', key(), '--output', plain, fileOf(b)]);
  assert.equal(dec.code, 0, dec.err);
  assert.match((await sh('pg_restore', ['--list', plain])).out, /TABLE DATA public notes/);
  // a bad migration dropped the table; the app's own role restores it from the backup
  const c = await asApp('bb');
  await c.query('DROP TABLE notes');
  const url = `postgres://${encodeURIComponent(c.user!)}:${encodeURIComponent(String(c.password))}@${c.host}:5432/${c.database}`;
  const restore = await sh('pg_restore', ['--no-owner', '--no-privileges', '--dbname', url, plain]);
  assert.equal(restore.code, 0, restore.err);
  assert.equal((await c.query('SELECT count(*)::int AS n FROM notes')).rows[0].n, 20);
  await c.end();
  assert.equal((await sh('age-keygen', ['-o', join(p.root, 'other.key')])).code, 0);
  const refused = await sh('age', ['--decrypt', '--identity', join(p.root, 'other.key'), fileOf(b)]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.err, /no identity matched/);
});

test('berth backup verify restores into a scratch database, checks it and counts the rows; the scratch is gone after', async () => {
  const r = await p.json<Verified>(['backup', 'verify', 'bd']);
  assert.deepEqual([r.state, r.tables, r.rows], ['ok', 1, 40], r.detail);
  assert.match(r.detail, /pg_amcheck found no corruption/);
  const list = await p.json<Backup[]>(['backup', 'list', 'bd']);
  assert.equal(list[0]!.verify_state, 'ok');
  const left = await p.berth(['backup', 'verify', 'bd', '999']);
  assert.equal(left.code, 3);
  assert.match(left.stderr, /bd has no backup #999/);
  const c = await asApp('bd');
  const scratch = async () => (await c.query("SELECT datname FROM pg_database WHERE datname LIKE 'berth\\_verify\\_%'")).rows.map((x) => x.datname as string);
  assert.deepEqual(await scratch(), [], 'a scratch database was left behind');
  // an app that sees a scratch database appear tries to read it
  let refused: string | null = null;
  for (let round = 0; round < 5 && !refused; round++) {
    const verifying = p.berth(['backup', 'verify', 'bd']);
    let done = false;
    void verifying.then(() => { done = true; });
    while (!done && !refused) {
      for (const db of await scratch()) {
        const peek = new pg.Client({ host: c.host, port: 5432, user: c.user, password: String(c.password), database: db, connectionTimeoutMillis: 5000 });
        const err = await peek.connect().then(async () => { await peek.end(); return null; }, (e: Error) => e.message);
        assert.ok(err !== null, `the app connected to the scratch database ${db}`);
        if (/permission denied for database/.test(err)) refused = err;
      }
    }
    assert.equal((await verifying).code, 0);
  }
  assert.ok(refused, 'never saw a scratch database while verifying: nothing was tried');
  await c.end();
});

test('verify reports a truncated file, a flipped byte, and a backup made for another key, and exits 1', async () => {
  const [t, f] = [made.find((b) => b.app === 'ba')!, made.find((b) => b.app === 'bc')!];
  truncateSync(fileOf(t), Math.floor(t.size / 2));
  const fd = openSync(fileOf(f), 'r+');
  const one = Buffer.alloc(1);
  readSync(fd, one, 0, 1, f.size - 20);
  writeSync(fd, Buffer.from([one[0]! ^ 0x01]), 0, 1, f.size - 20);
  closeSync(fd);
  for (const app of ['ba', 'bc']) {
    const r = await p.berth(['backup', 'verify', app]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /: damaged: the file is not what was written/);
  }
  // the key is replaced (lost, and a new one made): an earlier backup was made for the old one
  const e = made.find((b) => b.app === 'be')!;
  renameSync(key(), `${key()}.old`);
  renameSync(`${key()}.pub`, `${key()}.pub.old`);
  try {
    await new DaemonClient(`${p.root}/run/berth.sock`, 120_000).call('POST', '/backups/key');
    const r = await p.berth(['backup', 'verify', 'be', String(e.id)]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /wrong_key: made for another backup key/);
  } finally {
    renameSync(`${key()}.old`, key());
    renameSync(`${key()}.pub.old`, `${key()}.pub`);
  }
  assert.equal((await p.json<Verified>(['backup', 'verify', 'be'])).state, 'ok', 'the right key verifies it again');
});

test('delete asks first and without a terminal refuses; with --yes the file and its record go', async () => {
  const b = made.find((x) => x.app === 'be')!;
  const refused = await p.berth(['backup', 'delete', 'be', String(b.id)]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /refusing to delete backup #\d+ of be without confirmation[^]*--yes/);
  assert.ok(existsSync(fileOf(b)));
  await p.ok(['backup', 'delete', 'be', String(b.id), '--yes']);
  assert.ok(!existsSync(fileOf(b)));
  assert.deepEqual(await p.json<Backup[]>(['backup', 'list', 'be']), []);
});

test('restore under load: into a new database, checked, the app moved onto it by a release, the one before kept; 0 failed', async () => {
  await ensureSample(p);
  await p.ok(['deploy', 'bd', '--image', SAMPLE]);
  const c = await asApp('bd');
  await c.query("INSERT INTO notes(body) SELECT 'written after the backup' FROM generate_series(1, 5)");
  const before = c.database!;
  await c.end();
  const dry = await p.json<{ plan: string[] }>(['backup', 'restore', 'bd', '--dry-run']);
  assert.equal(dry.plan.length, 5);
  assert.equal((await asApp('bd').then(async (x) => { await x.end(); return x.database; })), before, 'a dry run moved the app');
  const load = new Load({ port: p.httpsPort, host: 'bd.localhost', ca: p.caRoot, path: '/' }, 4);
  const r = await p.json<Restored>(['backup', 'restore', 'bd']);
  const res = await load.stop();
  console.log(`restore under load: ${res.failed} failed of ${res.total}`);
  assert.equal(res.failed, 0, JSON.stringify(res.failures));
  assert.equal(r.previous_db, before);
  assert.notEqual(r.db, before);
  assert.match(r.release ?? '', /^v\d+$/);
  const now = await asApp('bd');
  assert.equal(now.database, r.db);
  assert.equal((await now.query('SELECT count(*)::int AS n FROM notes')).rows[0].n, 40, 'the app does not see the restored rows');
  await now.end();
  const env = await p.ok(['run', 'bd', '--', 'node', '-e', 'process.stdout.write(new URL(process.env.DATABASE_URL).pathname)']);
  assert.equal(env.stdout, `/${r.db}`, 'the live release does not use the restored database');
  const kept = await asApp('bd', before);
  assert.equal((await kept.query('SELECT count(*)::int AS n FROM notes')).rows[0].n, 45, 'the database before was changed');
  await kept.end();
  // a rollback to the release before would serve the database the restore left: refused
  const back = await p.berth(['rollback', 'bd']);
  assert.equal(back.code, 4, back.stderr);
  assert.match(back.stderr, /uses the database \S+, which a restore moved the app away from/);
  const listed = await p.json<{ id: number; previous_db: string; db: string }[]>(['backup', 'restored', 'bd']);
  assert.deepEqual(listed.map((x) => [x.previous_db, x.db]), [[before, r.db]]);
  // purging the database before asks first, then drops it
  const refused = await p.berth(['backup', 'restored', 'bd', '--purge', String(listed[0]!.id)]);
  assert.equal(refused.code, 2);
  await p.ok(['backup', 'restored', 'bd', '--purge', String(listed[0]!.id), '--yes']);
  await assert.rejects(asApp('bd', before), /does not exist/);
});

test('a restore whose backup does not check out changes nothing', async () => {
  const c = await asApp('ba');
  const db = c.database;
  await c.end();
  const r = await p.berth(['backup', 'restore', 'ba']); // its latest backup was truncated above
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /backup #\d+ of ba is damaged[^]*nothing was changed/);
  const after = await asApp('ba');
  assert.equal(after.database, db);
  const names = (await after.query("SELECT datname FROM pg_database WHERE datname LIKE $1", [`${db}_r%`])).rows;
  assert.deepEqual(names, [], 'a restore database was left behind');
  await after.end();
});

test('a schedule backs up, verifies each backup and applies retention; berth status says ok, then failed when a backup fails', async () => {
  const shown = await p.ok(['backup', 'schedule', 'bb', '*/3 * * * * *', '--verify-after', '--keep-daily', '1', '--keep-weekly', '0', '--keep-monthly', '0']);
  assert.match(shown.stdout, /backups: \*\/3 \* \* \* \* \* \(Etc\/UTC\), next 20/);
  assert.match(shown.stdout, /and after every backup/);
  const audit = async () => (await p.json<{ action: string; actor: string; result: string }[]>(['audit', 'bb']))
    .filter((a) => a.actor === 'berth' && a.action.startsWith('backup.'));
  await until(async () => {
    const a = await audit();
    return a.filter((x) => x.action === 'backup.create' && x.result === 'succeeded').length >= 2
      && a.some((x) => x.action === 'backup.delete') && a.some((x) => x.action === 'backup.verify' && x.result === 'ok');
  }, 60_000, 'two scheduled backups, a verification and a prune');
  await p.ok(['backup', 'schedule', 'bb', '--off']);
  // a backup that fired before the schedule went off is verified and pruned after, as every other
  const list = await until(async () => {
    const l = await p.json<Backup[]>(['backup', 'list', 'bb']);
    return l[0]?.verify_state && l.length <= 2 ? l : undefined;
  }, 30_000, 'the last scheduled backup to be verified and retention applied');
  assert.equal(list[0]!.verify_state, 'ok');
  const status = await p.json<{ apps: { name: string; backup: { state: string } | null }[] }>(['status']);
  assert.equal(status.apps.find((a) => a.name === 'bb')!.backup!.state, 'ok');
  const bad = await p.berth(['backup', 'schedule', 'bb', 'every day']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /schedule: "every day" is not a schedule/);
  // PostgreSQL down: the backup fails, nothing is recorded, and status says so
  await docker.getContainer(`${p.instance}-postgres`).stop();
  try {
    const failed = await p.berth(['backup', 'create', 'bb']);
    assert.notEqual(failed.code, 0);
    const s = await p.json<{ apps: { name: string; status: string; backup: { state: string } }[] }>(['status']);
    const bb = s.apps.find((a) => a.name === 'bb')!;
    assert.equal(bb.backup.state, 'failed');
    assert.match(bb.status, /backups failed/);
    assert.equal((await p.json<Backup[]>(['backup', 'list', 'bb'])).length, list.length, 'a failed backup was recorded');
  } finally {
    await docker.getContainer(`${p.instance}-postgres`).start();
  }
});

test('an off-site S3 target: a wrong key is refused; each backup copied byte for byte; a lost local file comes back; deletion reaches it', async () => {
  const vm = new ExternalMinio(p);
  await vm.start();
  try {
    const s3 = s3Client(vm.endpoint, vm.rootUser, vm.rootSecret);
    await s3.send(new CreateBucketCommand({ Bucket: 'offsite' }));
    const add = ['backup', 'target', 's3', '--endpoint', vm.endpoint, '--bucket', 'offsite', '--access-key', vm.rootUser, '--prefix', 'berth',
      '--secret-key-stdin'];
    const wrong = await p.berth(add, { input: 'not-the-secret\n' });
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /the target does not work[^]*nothing was saved/);
    assert.deepEqual(await p.json<unknown[]>(['backup', 'targets']), []);
    await p.ok(add, { input: `${vm.rootSecret}\n` });
    assert.ok(!JSON.stringify(await p.json<unknown[]>(['backup', 'targets'])).includes(vm.rootSecret), 'the secret key is shown');
    const b = await p.json<Backup & { copies: { target: string; ok: boolean }[] }>(['backup', 'create', 'bd']);
    assert.deepEqual(b.copies, [{ target: 'offsite', ok: true }]);
    const key = `berth/bd/${b.file}`;
    const obj = await s3.send(new GetObjectCommand({ Bucket: 'offsite', Key: key }));
    assert.ok(Buffer.from(await obj.Body!.transformToByteArray()).equals(readFileSync(fileOf(b))), 'the copy differs from the local file');
    assert.deepEqual((await p.json<Backup[]>(['backup', 'list', 'bd']))[0]!.stored, ['local', 'offsite']);
    const [t] = await p.json<{ last_success_at: string | null; last_error: string | null }[]>(['backup', 'targets']);
    assert.ok(t!.last_success_at && !t!.last_error, JSON.stringify(t));
    // the server's copy is lost: a verification brings it back from the target first
    rmSync(fileOf(b));
    assert.equal((await p.json<Verified>(['backup', 'verify', 'bd', String(b.id)])).state, 'ok');
    assert.ok(existsSync(fileOf(b)));
    await p.ok(['backup', 'delete', 'bd', String(b.id), '--yes']);
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'offsite', Key: key })), /NotFound|404/);
    // the target down: the local file goes all the same (retention must not stall and fill the
    // disk), the copy there and its record stay, and go with the next delete once it is back
    const b2 = await p.json<Backup>(['backup', 'create', 'bd']);
    await docker.getContainer(vm.name).stop();
    const down = await p.json<{ kept_on: { target: string }[] }>(['backup', 'delete', 'bd', String(b2.id), '--yes']);
    assert.deepEqual(down.kept_on.map((k) => k.target), ['offsite']);
    assert.ok(!existsSync(fileOf(b2)), 'the local file stayed');
    assert.deepEqual((await p.json<Backup[]>(['backup', 'list', 'bd'])).find((x) => x.id === b2.id)?.stored, ['offsite']);
    await docker.getContainer(vm.name).start();
    await until(() => s3.send(new ListBucketsCommand({})).then(() => true, () => false), 60_000, 'the target to answer again');
    assert.deepEqual((await p.json<{ kept_on: unknown[] }>(['backup', 'delete', 'bd', String(b2.id), '--yes'])).kept_on, []);
    assert.ok(!(await p.json<Backup[]>(['backup', 'list', 'bd'])).some((x) => x.id === b2.id), 'the record stayed');
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'offsite', Key: `berth/bd/${b2.file}` })), /NotFound|404/);
    await p.ok(['backup', 'targets', '--remove', 'offsite']);
  } finally {
    await vm.stop();
  }
});

test('notifications: a failed backup is told to the webhook once, and once more when it clears', async () => {
  const got: { text: string; berth: { event: string; key: string } }[] = [];
  const hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d; }).on('end', () => { got.push(JSON.parse(body)); res.end('ok'); });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook/secret-token`;
  try {
    await p.ok(['notify', 'webhook', '--url-stdin'], { input: `${url}\n` });
    assert.ok(!(await p.ok(['notify'])).stdout.includes('secret-token'), 'the hook\'s secret path is shown');
    await p.ok(['notify', '--test']);
    // (incidents opened by the tests before, such as a failed verification, are told too once a hook is set)
    assert.ok(got.some((g) => g.berth.event === 'test'), `no test event: ${JSON.stringify(got.map((g) => g.berth))}`);
    const about = (event: string) => got.filter((g) => g.berth.key === 'backup bd' && g.berth.event === event);
    await docker.getContainer(`${p.instance}-postgres`).stop();
    try {
      assert.notEqual((await p.berth(['backup', 'create', 'bd'])).code, 0);
    } finally {
      await docker.getContainer(`${p.instance}-postgres`).start();
    }
    await until(async () => about('opened').length > 0, 40_000, 'the failure to be told');
    assert.match(about('opened')[0]!.text, /backups of bd failed/);
    await sleep(16_000); // a reconcile pass later: not told again
    assert.equal(about('opened').length, 1, 'an incident was told twice');
    await until(async () => (await p.berth(['backup', 'create', 'bd'])).code === 0, 30_000, 'a backup once PostgreSQL is back');
    await until(async () => about('cleared').length > 0, 40_000, 'the recovery to be told');
    assert.match(about('cleared')[0]!.text, /resolved: backups of bd failed/);
    await p.ok(['notify', '--off']);
  } finally {
    hook.close();
  }
});
