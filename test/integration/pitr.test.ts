// Point-in-time recovery on a real platform: the shared PostgreSQL archives its WAL with
// pgBackRest (encrypted repository under <root>/backups/pitr) and has a base backup soon after
// berth up. An app writes rows, the time is noted, its table is dropped and another app writes
// on; restoring the first app to the noted time brings its rows back in a new database (the one
// it left is kept), and the other app's later writes are untouched.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { DaemonClient } from '../../src/daemon/client.js';
import { docker, ensureSample, Platform, SAMPLE, sleep, until } from '../helpers/platform.js';

const p = new Platform();
type Conn = { postgres: { user: string; password: string; db: string } };
interface PitrWindow { archiving: boolean; from: string | null; to: string | null; last_archived_at: string | null; base_backups: { type: string }[] }

async function asApp(app: string, database?: string): Promise<pg.Client> {
  const c = (await new DaemonClient(`${p.root}/run/berth.sock`).call<Conn>('GET', `/apps/${app}/services`)).postgres;
  const ip = (await docker.getContainer(`${p.instance}-postgres`).inspect()).NetworkSettings.Networks[p.instance]!.IPAddress;
  const client = new pg.Client({ host: ip, port: 5432, user: c.user, password: c.password, database: database ?? c.db, connectionTimeoutMillis: 10_000 });
  await client.connect();
  return client;
}
const count = async (app: string, sql: string, database?: string) => {
  const c = await asApp(app, database);
  try { return Number((await c.query(sql)).rows[0].n); } finally { await c.end(); }
};
/** Every file under dir, recursively. */
const filesUnder = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
  .flatMap((d) => (d.isDirectory() ? filesUnder(join(dir, d.name)) : [join(dir, d.name)]));

before(async () => {
  await p.up();
  for (const app of ['pa', 'pb']) await p.ok(['apps', 'create', app, '--domain', `${app}.localhost`, '--no-redis', '--no-bucket']);
});
after(() => p.destroy());

test('berth up archives the WAL and takes a first base backup; berth backup pitr shows the window; the repository is encrypted', async () => {
  const w = await until(async () => { const x = await p.json<PitrWindow>(['backup', 'pitr']); return x.from ? x : false; }, 120_000, 'a base backup');
  assert.equal(w.archiving, true);
  assert.equal(w.base_backups[0]!.type, 'full');
  const text = await p.ok(['backup', 'pitr']);
  assert.match(text.stdout, /recoverable: from \S+ to now/);
  const repo = join(p.root, 'backups', '_pitr');
  assert.equal(statSync(repo).mode & 0o777, 0o700);
  const files = filesUnder(repo).filter((f) => /\.(zst|info)$/.test(f) || f.includes('/archive/'));
  assert.ok(files.length > 3, `only ${files.length} files in the repository`);
  for (const f of files.slice(0, 20)) {
    const head = Buffer.alloc(8);
    const fd = openSync(f, 'r');
    readSync(fd, head, 0, 8, 0);
    closeSync(fd);
    assert.equal(head.toString('latin1'), 'Salted__', `${f} is not encrypted`); // OpenSSL's aes-256-cbc envelope, pgBackRest's cipher
  }
});

test('restore --at: rows written, the time noted, the table dropped; the app gets its rows back, the other app\'s later writes stay', async () => {
  const a = await asApp('pa');
  await a.query('CREATE TABLE notes(id serial PRIMARY KEY, body text NOT NULL)');
  await a.query("INSERT INTO notes(body) SELECT 'note ' || g FROM generate_series(1, 50) g");
  await a.end();
  const b = await asApp('pb');
  await b.query('CREATE TABLE events(id serial PRIMARY KEY, what text)');
  await b.query("INSERT INTO events(what) VALUES ('before')");
  // a base backup that holds pa's database: the restore then brings back that database alone
  await p.ok(['backup', 'pitr', '--base']);
  await sleep(1200);
  const noted = new Date();
  await sleep(1200);
  const a2 = await asApp('pa');
  await a2.query("INSERT INTO notes(body) VALUES ('after the noted time')"); // must not come back
  await a2.query('DROP TABLE notes');
  await a2.end();
  await b.query("INSERT INTO events(what) VALUES ('after')");
  await b.end();
  const dbOf = async (app: string) => (await new DaemonClient(`${p.root}/run/berth.sock`).call<Conn>('GET', `/apps/${app}/services`)).postgres.db;
  const pbDb = await dbOf('pb');
  const paDb = await dbOf('pa');

  const at = noted.toISOString().replace('T', ' ').replace('Z', ''); // as a user types it: UTC, no zone
  const plan = await p.json<{ plan: string[]; db: string }>(['backup', 'restore', 'pa', '--at', at, '--dry-run']);
  assert.equal(plan.db, paDb);
  assert.match(plan.plan.join('\n'), /scratch server/);
  const run = await p.ok(['backup', 'restore', 'pa', '--at', at]); // as text: the progress says what was restored
  assert.match(run.stderr, new RegExp(`restored ${paDb} alone from the base backup before the instant`));
  const said = /now runs on (\S+) \(backup #(\d+)/.exec(run.stdout);
  assert.ok(said, run.stdout);
  const r = { db: said[1]!, backup: Number(said[2]), previous_db: (await p.json<{ previous_db: string }[]>(['backup', 'restored', 'pa']))[0]!.previous_db };
  assert.equal(r.previous_db, paDb);
  assert.notEqual(r.db, paDb);
  assert.equal(await count('pa', 'SELECT count(*) AS n FROM notes'), 50, 'the rows are not back, or a later one came too');
  // the database it left is kept, as it was (without the table)
  assert.equal(await count('pa', "SELECT count(*) AS n FROM pg_tables WHERE tablename = 'notes'", paDb), 0);
  // the other app: untouched, its write after the noted time still there
  assert.equal(await count('pb', "SELECT count(*) AS n FROM events WHERE what = 'after'"), 1);
  assert.equal(await dbOf('pb'), pbDb);
  // the backup it went through is listed as one made from the archive, and is not the app's latest
  const list = await p.json<{ id: number; kind: string }[]>(['backup', 'list', 'pa']);
  assert.equal(list.find((x) => x.id === r.backup)?.kind, 'pitr');
  const latest = await p.berth(['backup', 'verify', 'pa']);
  assert.equal(latest.code, 3, `a point-in-time dump was taken for the app's latest backup: ${latest.stdout}${latest.stderr}`);
  assert.match(latest.stderr, /pa has no backup yet/);
  // nothing of the scratch server is left: container, network, data
  const left = await docker.listContainers({ all: true, filters: { name: [`${p.instance}-pitr-`] } });
  assert.deepEqual(left.map((c) => c.Names), []);
  const nets = await docker.listNetworks({ filters: { name: [`${p.instance}-pitr-`] } });
  assert.deepEqual(nets.map((n) => n.Name), []);
  assert.deepEqual(readdirSync(join(p.root, 'backups', '.scratch')), []);
});

test('restore --at refuses, changing nothing: an instant before the window, in the future, not an instant, or with a backup id', async () => {
  const db = (await new DaemonClient(`${p.root}/run/berth.sock`).call<Conn>('GET', '/apps/pa/services')).postgres.db;
  const cases: [string[], RegExp][] = [
    [['--at', '2001-01-01 00:00:00'], /not after the oldest base backup ended/],
    [['--at', new Date(Date.now() + 3_600_000).toISOString()], /in the future/],
    [['--at', 'yesterday'], /is not an instant berth can restore to/],
    [['1', '--at', '2026-12-01 10:00:00'], /a backup id or --at, not both/],
  ];
  for (const [args, why] of cases) {
    const r = await p.berth(['backup', 'restore', 'pa', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
  }
  assert.equal((await new DaemonClient(`${p.root}/run/berth.sock`).call<Conn>('GET', '/apps/pa/services')).postgres.db, db);
});

test('a base backup that fails shows in berth status, and clears with the next one that works', async () => {
  type Status = { backups: { archive: { state: string; detail: string } | null } };
  assert.equal((await p.json<Status>(['status'])).backups.archive?.state, 'ok');
  const repo = join(p.root, 'backups', '_pitr');
  chmodSync(repo, 0o000);
  chownSync(repo, 0, 0); // the server's user can no longer write its repository
  try {
    const r = await p.berth(['backup', 'pitr', '--base', '--full']);
    assert.notEqual(r.code, 0, r.stdout);
    const s = await p.json<Status>(['status']);
    assert.equal(s.backups.archive?.state, 'failed', JSON.stringify(s.backups));
    assert.match((await p.ok(['status'])).stdout, /backups .*archive failed/);
  } finally {
    chownSync(repo, 999, 999);
    chmodSync(repo, 0o700);
  }
  await p.ok(['backup', 'pitr', '--base']);
  assert.equal((await p.json<Status>(['status'])).backups.archive?.state, 'ok');
});

test('a restore to an instant cut short by the daemon\'s death: no app reaches its scratch server meanwhile, and the restarted daemon '
  + 'removes the server, its network and its data; the app keeps its database', async () => {
  await ensureSample(p);
  await p.ok(['deploy', 'pa', '--image', SAMPLE]);
  await sleep(1200);
  const at = new Date().toISOString().replace('T', ' ').replace('Z', '');
  await sleep(1200);
  const services = () => new DaemonClient(`${p.root}/run/berth.sock`).call<Conn>('GET', '/apps/pa/services');
  const dbBefore = (await services()).postgres.db;
  const marker = join(p.root, 'run', 'paused');
  await p.restartDaemonWith({ BERTH_TEST_PAUSE_AT: 'pitr.scratch' });
  const run = p.berth(['backup', 'restore', 'pa', '--at', at]);
  let ended: { code: number; stderr: string } | undefined;
  void run.then((r) => { ended = r; });
  const paused = await until(async () => (ended ? 'ended' : existsSync(marker) && readFileSync(marker, 'utf8') === 'pitr.scratch' && 'paused'),
    180_000, 'the restore to pause with its scratch server up');
  assert.equal(paused, 'paused', `the restore ended first: exit ${ended?.code}: ${ended?.stderr}`);
  const scratch = (await docker.listContainers({ filters: { name: [`${p.instance}-pitr-`] } }))[0];
  assert.ok(scratch, 'no scratch server running');
  const sc = await docker.getContainer(scratch.Id).inspect();
  const scratchIp = Object.values(sc.NetworkSettings.Networks)[0]!.IPAddress;
  // the attacker: pa's own container, after the scratch server (every app's data, as it was) by address and by name
  const probe = 'const s = require("net").connect(5432, process.argv[1]); s.setTimeout(3000);'
    + 's.on("connect", () => { console.log("CONNECTED"); process.exit(0); }); s.on("timeout", () => { console.log("timeout"); process.exit(1); });'
    + 's.on("error", (e) => { console.log(e.code); process.exit(1); });';
  const tryFromApp = (host: string) => new Promise<string>((res) => execFile('docker', ['exec', `${p.instance}-pa-web`, 'node', '-e', probe, host],
    { timeout: 20_000 }, (_e, stdout) => res(stdout.trim())));
  assert.equal(await tryFromApp(`${p.instance}-postgres`), 'CONNECTED', 'the probe cannot reach even the shared PostgreSQL (the test would prove nothing)');
  for (const host of [scratchIp, sc.Name.slice(1)]) assert.notEqual(await tryFromApp(host), 'CONNECTED', `the app reached the scratch server at ${host}`);
  p.killDaemon('SIGKILL');
  assert.notEqual((await run).code, 0, 'the CLI reported success although the daemon died');
  rmSync(marker, { force: true });
  p.startDaemon({});
  await until(() => new DaemonClient(`${p.root}/run/berth.sock`, 2000).alive(), 30_000, 'the restarted daemon');
  const left = async () => [
    ...(await docker.listContainers({ all: true, filters: { name: [`${p.instance}-pitr-`] } })).map((c) => c.Names[0]!),
    ...(await docker.listNetworks({ filters: { label: [`berth.instance=${p.instance}`, 'berth.scratch=pitr'] } })).map((n) => n.Name),
    ...(existsSync(join(p.root, 'backups', '.scratch')) ? readdirSync(join(p.root, 'backups', '.scratch')) : []),
  ];
  await until(async () => (await left()).length === 0, 60_000, 'the scratch server, network and data to be removed').catch(async (e: Error) => {
    throw new Error(`${e.message}: ${(await left()).join(' ')}`);
  });
  assert.equal((await services()).postgres.db, dbBefore, 'the app was moved off its database by a restore that never finished');
});
