// A shared service can be external: here a separate PostgreSQL server (its own container on its
// own network, reached through a published port, standing in for a database VM or RDS). berth
// then provisions inside it and runs no PostgreSQL container of its own.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { POSTGRES_IMAGE, REDIS_IMAGE, redisAclFile, SERVICE_UID } from '../../src/runtime/docker/service-images.js';
import { docker, ensureSample, Platform, SAMPLE, until } from '../helpers/platform.js';
import { hostAddressOn } from '../helpers/gateway.js';

const p = new Platform();
const vmPassword = `vm-${Math.random().toString(36).slice(2)}`;
const vmPort = 35000 + Math.floor(Math.random() * 5000);
let gateway = '';
const vmName = () => `${p.instance}-dbvm`;
const redisVm = () => `${p.instance}-redisvm`;
const redisPassword = `rvm-${Math.random().toString(36).slice(2)}`;
const redisPort = vmPort + 1;
const redisDir = mkdtempSync(join(tmpdir(), 'berth-redisvm-'));

before(async () => {
  await p.up();
  await ensureSample(p);
  gateway = await hostAddressOn(p.instance);
  assert.ok(gateway, 'the platform network has no gateway');
  await docker.createNetwork({ Name: vmName(), Labels: { 'berth.instance': p.instance } });
  const c = await docker.createContainer({
    name: vmName(), Image: POSTGRES_IMAGE, Env: [`POSTGRES_PASSWORD=${vmPassword}`],
    Labels: { 'berth.instance': p.instance, 'berth.role': 'test-db-vm' },
    HostConfig: { NetworkMode: vmName(), PortBindings: { '5432/tcp': [{ HostIp: gateway, HostPort: String(vmPort) }] } },
  });
  await c.start();
  // A Redis server of its own, too (its admin password in its ACL file, as berth does it).
  writeFileSync(join(redisDir, 'users.acl'), redisAclFile(redisPassword), { mode: 0o600 });
  for (const f of [redisDir, join(redisDir, 'users.acl')]) chownSync(f, SERVICE_UID, SERVICE_UID);
  const r = await docker.createContainer({
    name: redisVm(), Image: REDIS_IMAGE, Labels: { 'berth.instance': p.instance, 'berth.role': 'test-redis-vm' },
    HostConfig: { NetworkMode: vmName(), Binds: [`${redisDir}:/data`], PortBindings: { '6379/tcp': [{ HostIp: gateway, HostPort: String(redisPort) }] } },
  });
  await r.start();
  await until(async () => {
    const client = new pg.Client({ host: gateway, port: vmPort, user: 'postgres', password: vmPassword, database: 'postgres', connectionTimeoutMillis: 2000 });
    try { await client.connect(); await client.end(); return true; } catch { return false; }
  }, 60_000, 'the external PostgreSQL to accept logins');
});
after(async () => {
  await docker.getContainer(vmName()).remove({ force: true }).catch(() => undefined);
  await docker.getContainer(redisVm()).remove({ force: true }).catch(() => undefined);
  rmSync(redisDir, { recursive: true, force: true });
  await p.destroy();
  await docker.getNetwork(vmName()).remove().catch(() => undefined);
});

test('an unreachable or wrongly authenticated external server is refused, and nothing changes', async () => {
  const r = await p.berth(['services', 'set', 'postgres', '--external', `postgres://postgres:wrong@${gateway}:${vmPort}/postgres`]);
  assert.equal(r.code, 10, r.stderr);
  assert.match(r.stderr, /password authentication failed/);
  const s = await p.json<{ service: string; state: string }[]>(['services']);
  assert.equal(s.find((x) => x.service === 'postgres')!.state, 'running');
});

test('apps get their database and Redis user on the external servers; berth runs no container for them', async () => {
  const r = await p.json<{ mode: string }>(['services', 'set', 'postgres', '--external', `postgres://postgres:${vmPassword}@${gateway}:${vmPort}/postgres`]);
  assert.equal(r.mode, 'external');
  const s = await p.json<{ service: string; state: string; version?: string }[]>(['services']);
  assert.equal(s.find((x) => x.service === 'postgres')!.state, 'external');
  assert.ok((await p.containers()).every((c) => c.name !== `${p.instance}-postgres`));
  assert.equal((await docker.listContainers({ all: true, filters: { name: [`^/${p.instance}-postgres$`] } })).length, 0);

  const rr = await p.json<{ mode: string }>(['services', 'set', 'redis', '--external', `redis://default:${redisPassword}@${gateway}:${redisPort}`]);
  assert.equal(rr.mode, 'external');
  assert.equal((await docker.listContainers({ all: true, filters: { name: [`^/${p.instance}-redis$`] } })).length, 0);
  await p.ok(['apps', 'create', 'ext', '--domain', 'ext.localhost']);
  await p.ok(['deploy', 'ext', '--image', SAMPLE]);
  const env = await p.appEnv('ext', ['DATABASE_URL', 'REDIS_URL']);
  const redisUrl = new URL(env.REDIS_URL);
  assert.equal(`${redisUrl.hostname}:${redisUrl.port}`, `${gateway}:${redisPort}`);
  const rc = createClient({ url: env.REDIS_URL, socket: { reconnectStrategy: false } });
  rc.on('error', () => undefined);
  await rc.connect();
  await rc.set('ext:k', 'on the external redis');
  await assert.rejects(rc.set('other:k', 'x'), /NOPERM/);
  await rc.quit();
  const url = new URL(env.DATABASE_URL);
  assert.equal(`${url.hostname}:${url.port}`, `${gateway}:${vmPort}`);
  const app = new pg.Client({ connectionString: env.DATABASE_URL });
  await app.connect();
  assert.equal((await app.query('SELECT current_database() AS db')).rows[0].db, 'app_ext');
  await app.query('CREATE TABLE t (x int)');
  await app.end();
  const admin = new pg.Client({ host: gateway, port: vmPort, user: 'postgres', password: vmPassword, database: 'app_ext' });
  await admin.connect();
  assert.equal((await admin.query("SELECT tableowner FROM pg_tables WHERE tablename = 't'")).rows[0].tableowner, 'app_ext');
  await admin.end();
});

test('with an external PostgreSQL, logical backups are made, verified and restored there; point-in-time recovery is its provider\'s job', async () => {
  const before = (await p.appEnv('ext', ['DATABASE_URL'])).DATABASE_URL;
  const app = new pg.Client({ connectionString: before });
  await app.connect();
  await app.query('INSERT INTO t(x) SELECT g FROM generate_series(1, 20) g');
  await app.end();
  const b = await p.json<{ id: number; size: number }>(['backup', 'create', 'ext']);
  assert.ok(b.size > 0);
  const v = await p.json<{ state: string; tables: number; rows: number }>(['backup', 'verify', 'ext']);
  assert.deepEqual([v.state, v.tables, v.rows], ['ok', 1, 20]);
  const gone = new pg.Client({ connectionString: before });
  await gone.connect();
  await gone.query('DELETE FROM t');
  await gone.end();
  await p.ok(['backup', 'restore', 'ext', String(b.id)]);
  const after = (await until(async () => {
    const e = await p.appEnv('ext', ['DATABASE_URL']);
    return e.DATABASE_URL !== before ? e : false;
  }, 30_000, 'the release on the restored database')).DATABASE_URL;
  const now = new pg.Client({ connectionString: after });
  await now.connect();
  assert.equal(Number((await now.query('SELECT count(*) AS n FROM t')).rows[0].n), 20);
  await now.end();
  assert.equal(new URL(after).host, new URL(before).host, 'the restored database is not on the external server');
  // the archive: not berth's to keep on someone else's server
  const w = await p.json<{ archiving: boolean; note: string }>(['backup', 'pitr']);
  assert.equal(w.archiving, false);
  assert.match(w.note, /external: point-in-time recovery is its provider's job/);
  const at = await p.berth(['backup', 'restore', 'ext', '--at', new Date(Date.now() - 60_000).toISOString()]);
  assert.equal(at.code, 2, at.stderr);
  assert.match(at.stderr, /provider's job/);
});
