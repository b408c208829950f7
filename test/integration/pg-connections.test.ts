// PostgreSQL connection limits, tried as a hostile tenant would: an app that opens connections
// until it is refused (a leak, a pool set too large, or on purpose) leaves the other apps able to
// connect and query, and berth able to administer the server (its reserved slots).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.js';
import { docker, Platform, until } from '../helpers/platform.js';

const p = new Platform();
type Conn = { postgres: { user: string; password: string; db: string } };
type PgStatus = { service: string; max_connections: number; app_slots: number; apps: { app: string; connections: number; limit: number; set: boolean }[] };

const conn = (app: string) => new DaemonClient(`${p.root}/run/berth.sock`).call<Conn>('GET', `/apps/${app}/services`);
async function pgIp(): Promise<string> {
  const info = await docker.getContainer(`${p.instance}-postgres`).inspect();
  return info.NetworkSettings.Networks[p.instance]!.IPAddress;
}
async function pgAs(c: Conn): Promise<pg.Client> {
  const client = new pg.Client({ host: await pgIp(), port: 5432, user: c.postgres.user, password: c.postgres.password, database: c.postgres.db,
    connectionTimeoutMillis: 10_000 });
  await client.connect();
  return client;
}

/** Opens connections as the app until one is refused (or `max` are open); returns them and the refusal. */
async function flood(c: Conn, max: number): Promise<{ open: pg.Client[]; refused: Error }> {
  const open: pg.Client[] = [];
  for (let i = 0; i < max; i++) {
    const client = await pgAs(c).catch((e: Error) => e);
    if (client instanceof Error) return { open, refused: client };
    open.push(client);
  }
  await close(open);
  throw new Error(`${max} connections were opened and none refused`);
}
const close = (cs: pg.Client[]) => Promise.all(cs.map((x) => x.end()));

async function queries(c: Conn): Promise<void> {
  const client = await pgAs(c);
  try {
    assert.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1);
  } finally {
    await client.end();
  }
}

const pgStatus = async () => (await p.json<PgStatus[]>(['services'])).find((s) => s.service === 'postgres')!;
const appRow = async (app: string) => (await pgStatus()).apps.find((a) => a.app === app)!;

before(async () => {
  await p.up();
  await p.ok(['apps', 'create', 'att', '--domain', 'att.localhost', '--pg-connections', '5', '--no-redis', '--no-bucket']);
  await p.ok(['apps', 'create', 'vic', '--domain', 'vic.localhost', '--no-redis', '--no-bucket']);
});
after(() => p.destroy());

test('an app that floods PostgreSQL stops at its limit; another app still connects and queries; berth still administers', async () => {
  const { open, refused } = await flood(await conn('att'), 50);
  try {
    assert.equal(open.length, 5);
    assert.match(refused.message, /too many connections for role "app_att_a"/);
    await queries(await conn('vic'));
    const row = await appRow('att');
    assert.deepEqual([row.connections, row.limit, row.set], [5, 5, true]);
    const human = await p.ok(['services']);
    assert.match(human.stdout, /att\s+5\s+5 \(set\)/);
    await p.ok(['apps', 'create', 'late', '--domain', 'late.localhost', '--no-redis', '--no-bucket']); // berth's own admin work
    await queries(await conn('late'));
  } finally {
    await close(open);
  }
});

test('by default an app gets a share of the slots, never more than half, so one app exhausting it leaves the others room', async () => {
  const s = await pgStatus();
  const vic = s.apps.find((a) => a.app === 'vic')!;
  assert.equal(vic.set, false);
  assert.ok(vic.limit >= 10 && vic.limit <= Math.floor(s.app_slots / 2), `default limit ${vic.limit} of ${s.app_slots} slots`);
  const show = await p.json<{ pg_connections: number | 'default' }>(['apps', 'show', 'vic']);
  assert.equal(show.pg_connections, 'default');
  const { open, refused } = await flood(await conn('vic'), s.max_connections);
  try {
    assert.equal(open.length, vic.limit);
    assert.match(refused.message, /too many connections for role "app_vic_a"/);
    await queries(await conn('att'));
    await queries(await conn('late'));
  } finally {
    await close(open);
  }
});

test('apps update changes the limit at once; in the middle of a rotation both logins share it', async () => {
  await p.ok(['apps', 'update', 'att', '--pg-connections', '8']);
  assert.equal((await p.json<{ pg_connections: number }>(['apps', 'show', 'att'])).pg_connections, 8);
  const first = await flood(await conn('att'), 50);
  assert.equal(first.open.length, 8);
  await close(first.open.slice(3));
  const held = first.open.slice(0, 3); // 3 sessions on the old login stay open across the rotation
  const terminated = new Map<pg.Client, Error>(); // each client's first error (a second says the socket closed)
  for (const c of held) c.on('error', (e) => { if (!terminated.has(c)) terminated.set(c, e); });
  // the rotation held where both logins work (the daemon paused there, as in the crash tests)
  const marker = join(p.root, 'run', 'paused');
  const alive = () => new DaemonClient(`${p.root}/run/berth.sock`, 2000).alive();
  await p.restartDaemonWith({ BERTH_TEST_PAUSE_AT: 'rotate.added' });
  const rotation = p.berth(['apps', 'rotate', 'att', '--db']);
  await until(async () => existsSync(marker) && readFileSync(marker, 'utf8') === 'rotate.added', 30_000, 'the rotation to pause');
  const mid = await conn('att');
  assert.equal(mid.postgres.user, 'app_att_b');
  const during = await flood(mid, 50);
  await close(during.open);
  assert.equal(during.open.length, 5, 'the new login got more than the app\'s limit less what the old login holds');
  assert.match(during.refused.message, /too many connections for database "app_att"/);
  p.killDaemon('SIGKILL');
  assert.notEqual((await rotation).code, 0);
  rmSync(marker, { force: true });
  p.startDaemon({}); // its recovery commits the rotation (no live release) and closes the old login's sessions
  await until(alive, 30_000, 'the restarted daemon');
  await until(async () => terminated.size === 3, 10_000, 'the old login\'s sessions to be closed');
  for (const e of terminated.values()) assert.match(e.message, /terminating connection due to administrator command/);
  const after = await flood(await conn('att'), 50);
  await close(after.open);
  assert.equal(after.open.length, 8);
  assert.match(after.refused.message, /too many connections for role "app_att_b"/);
  await p.ok(['apps', 'update', 'att', '--pg-connections', 'default']);
  assert.equal((await appRow('att')).set, false);
  const bad = await p.berth(['apps', 'update', 'att', '--pg-connections', '0']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /pg_connections/);
});

test('an app allowed more than the server has cannot take the slots reserved for berth', async () => {
  await p.ok(['apps', 'update', 'att', '--pg-connections', '500']);
  const { open, refused } = await flood(await conn('att'), 200);
  try {
    assert.match(refused.message, /remaining connection slots are reserved/);
    const s = await pgStatus(); // berth's own admin connection still gets in
    assert.equal(s.apps.find((a) => a.app === 'att')!.connections, open.length);
    await p.ok(['apps', 'create', 'later', '--domain', 'later.localhost', '--no-redis', '--no-bucket']);
  } finally {
    await close(open);
  }
  await p.ok(['apps', 'update', 'att', '--pg-connections', '5']);
});

test('a connection limit for an app without a database is refused, and creates nothing', async () => {
  const r = await p.berth(['apps', 'create', 'nodb', '--domain', 'nodb.localhost', '--no-db', '--pg-connections', '5']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /pg_connections: nodb gets no PostgreSQL database/);
  assert.equal((await p.berth(['apps', 'show', 'nodb'])).code, 3);
  await p.ok(['apps', 'create', 'nodb', '--domain', 'nodb.localhost', '--no-db']);
  const u = await p.berth(['apps', 'update', 'nodb', '--pg-connections', '5']);
  assert.equal(u.code, 2, u.stderr);
  assert.match(u.stderr, /nodb has no PostgreSQL database/);
});
