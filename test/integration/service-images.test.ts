// The shared-service images (src/runtime/docker/service-images.ts), each built if missing and proved
// against a real container on a bridge network of its own: PostgreSQL (password login over TCP,
// data across a restart, a one-off pg_dump from the same image), Redis (password required,
// data across a restart), S3 (bucket create, put, get, across a restart). Every Docker object
// this file creates carries a random prefix and is removed in after().
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import pg from 'pg';
import { createClient } from '@redis/client';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { demux, EngineApi } from '../../src/runtime/docker/engine-api.js';
import {
  ensurePostgresImage, ensureRedisImage, ensureS3Image, POSTGRES_VOLUME_PATH, redisAclFile, REDIS_DATA_PATH, SERVICE_UID,
  S3_DATA_PATH, S3RVER_ACCESS_KEY,
} from '../../src/runtime/docker/service-images.js';

const api = new EngineApi();
const prefix = `svc${randomBytes(4).toString('hex')}`;
const network = `${prefix}-net`;
const containers: string[] = [];
const volumes: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BUILD_TIMEOUT = 10 * 60_000;

// ----- Docker helpers (Engine API, exactly what berth uses) -----

async function volume(name: string): Promise<string> {
  await api.json('POST', '/volumes/create', `create volume ${name}`, { body: { Name: name, Labels: { 'berth.test': prefix } } });
  volumes.push(name);
  return name;
}

async function create(name: string, body: Record<string, unknown>): Promise<string> {
  const { Id } = await api.json<{ Id: string }>('POST', '/containers/create', `create ${name}`, {
    query: { name },
    body: { ...body, Labels: { 'berth.test': prefix }, HostConfig: { NetworkMode: network, ...(body.HostConfig as object) } },
  });
  containers.push(Id);
  return Id;
}

const start = (id: string) => api.json('POST', `/containers/${id}/start`, 'start container');
const restart = (id: string) => api.json('POST', `/containers/${id}/restart`, 'restart container', { query: { t: 10 }, timeoutMs: 30_000 });
const logs = async (id: string) => demux(await api.buffer('GET', `/containers/${id}/logs`, 'container logs', { query: { stdout: true, stderr: true, tail: 40 } }));

async function ipOf(id: string): Promise<string> {
  const c = await api.json<{ NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }>('GET', `/containers/${id}/json`, 'inspect container');
  const ip = c.NetworkSettings.Networks[network]?.IPAddress;
  assert.ok(ip, `container ${id.slice(0, 12)} has no address on ${network}`);
  return ip;
}

/** Retries `probe` until it succeeds, for at most `ms`; the failure shows the last error and the container's log. */
async function until<T>(what: string, id: string, ms: number, probe: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await probe();
    } catch (e) {
      if (Date.now() > deadline) {
        throw new Error(`${what} not ready within ${ms / 1000}s: ${(e as Error).message}\n--- container log ---\n${await logs(id).catch(() => '?')}`);
      }
      await sleep(300);
    }
  }
}

async function imageLabels(tag: string): Promise<Record<string, string>> {
  const img = await api.json<{ Config: { Labels: Record<string, string> | null } }>('GET', `/images/${encodeURIComponent(tag)}/json`, `inspect ${tag}`);
  return img.Config.Labels ?? {};
}

async function build(t: { diagnostic: (m: string) => void }, name: string, ensure: typeof ensurePostgresImage): Promise<string> {
  const t0 = Date.now();
  const tag = await ensure(api, (l) => t.diagnostic(`${name}: ${l}`));
  t.diagnostic(`${tag} ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  assert.ok((await imageLabels(tag))['berth.source'], `${tag} has no berth.source label`);
  return tag;
}

before(async () => {
  await api.json('GET', '/version', 'version').catch((e: Error) => {
    throw new Error(`these tests need Docker Engine at ${api.socketPath}: ${e.message}`);
  });
  await api.json('POST', '/networks/create', `create network ${network}`,
    { body: { Name: network, Driver: 'bridge', CheckDuplicate: true, Labels: { 'berth.test': prefix } } });
});

after(async () => {
  for (const id of containers) {
    await api.json('DELETE', `/containers/${id}`, 'remove container', { query: { force: true, v: true } }).catch(() => undefined);
  }
  for (const v of volumes) await api.json('DELETE', `/volumes/${v}`, 'remove volume').catch(() => undefined);
  await api.json('DELETE', `/networks/${network}`, 'remove network').catch(() => undefined);
  for (const d of cleanupDirs) rmSync(d, { recursive: true, force: true });
});
const cleanupDirs: string[] = [];

// ----- PostgreSQL -----

test('postgres: password login over TCP, data across a restart, one-off pg_dump', { timeout: BUILD_TIMEOUT }, async (t) => {
  const image = await build(t, 'postgres', ensurePostgresImage);
  const password = `pw ${randomBytes(12).toString('base64')} '"$x`; // quotes and $ pass through as data
  const name = `${prefix}-pg`;
  const id = await create(name, {
    Image: image, Env: [`POSTGRES_PASSWORD=${password}`],
    HostConfig: { Binds: [`${await volume(`${prefix}-pgdata`)}:${POSTGRES_VOLUME_PATH}`] },
  });
  await start(id);
  const connect = async (pw: string) => {
    const c = new pg.Client({ host: await ipOf(id), port: 5432, user: 'postgres', password: pw, database: 'postgres', connectionTimeoutMillis: 3000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
    return c;
  };

  let c = await until('postgres', id, 60_000, () => connect(password));
  try {
    const { rows } = await c.query<{ version: string }>('select version()');
    assert.match(rows[0]!.version, /^PostgreSQL 15\./);
    await c.query('create table items (id int primary key, name text)');
    await c.query(`insert into items values (1, 'kept across restarts'), (2, 'ünïcødé')`);
  } finally {
    await c.end();
  }
  await assert.rejects(connect('wrong password'), /password authentication failed/);

  await restart(id);
  c = await until('postgres after restart', id, 60_000, () => connect(password));
  try {
    const { rows } = await c.query<{ name: string }>('select name from items order by id');
    assert.deepEqual(rows.map((r) => r.name), ['kept across restarts', 'ünïcødé']);
  } finally {
    await c.end();
  }

  // A one-off container from the same image, reaching the server by its name on the network.
  const dump = await create(`${prefix}-pgdump`, {
    Image: image, Cmd: ['pg_dump', '-h', name, '-U', 'postgres', '-d', 'postgres', '-t', 'items'], Env: [`PGPASSWORD=${password}`],
  });
  await start(dump);
  const { StatusCode } = await api.json<{ StatusCode: number }>('POST', `/containers/${dump}/wait`, 'wait for pg_dump', { timeoutMs: 60_000 });
  const out = await logs(dump);
  assert.equal(StatusCode, 0, `pg_dump exited ${StatusCode}:\n${out}`);
  assert.match(out, /CREATE TABLE public\.items/);
  assert.match(out, /kept across restarts/);
});

// ----- Redis -----

test('redis: refuses commands without the password, keeps data across a restart', { timeout: BUILD_TIMEOUT }, async (t) => {
  const image = await build(t, 'redis', ensureRedisImage);
  const password = randomBytes(18).toString('base64');
  // The users file goes into the data directory before the first start, as berth up does it.
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-redis-'));
  cleanupDirs.push(dataDir);
  writeFileSync(join(dataDir, 'users.acl'), redisAclFile(password), { mode: 0o600 });
  for (const f of [dataDir, join(dataDir, 'users.acl')]) chownSync(f, SERVICE_UID, SERVICE_UID);
  const id = await create(`${prefix}-redis`, { Image: image, HostConfig: { Binds: [`${dataDir}:${REDIS_DATA_PATH}`] } });
  await start(id);
  const client = async (pw?: string) => {
    const c = createClient({ url: `redis://${await ipOf(id)}:6379`, password: pw, socket: { connectTimeout: 3000, reconnectStrategy: false } });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };
  const ready = (pw: string) => async () => {
    const c = await client(pw);
    try {
      assert.equal(await c.ping(), 'PONG');
      return c;
    } catch (e) {
      await c.disconnect().catch(() => undefined);
      throw e;
    }
  };

  let c = await until('redis', id, 30_000, ready(password));
  await c.set('berth:kept', 'across restarts');
  await c.quit();

  const anon = await client();
  await assert.rejects(anon.get('berth:kept'), /NOAUTH/);
  await anon.disconnect();
  await assert.rejects(client('wrong password'), /WRONGPASS/);

  await restart(id);
  c = await until('redis after restart', id, 30_000, ready(password));
  assert.equal(await c.get('berth:kept'), 'across restarts');
  await c.quit();
});

// ----- S3 -----

test('s3: create a bucket, put and get an object, across a restart', { timeout: BUILD_TIMEOUT }, async (t) => {
  const image = await build(t, 's3', ensureS3Image);
  const id = await create(`${prefix}-s3`, {
    Image: image, HostConfig: { Binds: [`${await volume(`${prefix}-s3data`)}:${S3_DATA_PATH}`] },
  });
  await start(id);
  const s3 = async (accessKeyId = S3RVER_ACCESS_KEY) => new S3Client({
    endpoint: `http://${await ipOf(id)}:9000`, forcePathStyle: true, region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey: 'any-secret' },
    // s3rver predates the SDK's default CRC32 checksums (aws-chunked uploads with a trailer): it
    // would store the chunk framing as the object's content. Send checksums only when required.
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const body = `hello from berth ${randomBytes(8).toString('hex')}\n`;
  const read = async () => {
    const r = await (await s3()).send(new GetObjectCommand({ Bucket: 'berth-test', Key: 'dir/hello.txt' }));
    return r.Body!.transformToString();
  };

  await until('s3rver', id, 30_000, async () => (await s3()).send(new ListBucketsCommand({})));
  await (await s3()).send(new CreateBucketCommand({ Bucket: 'berth-test' }));
  await (await s3()).send(new PutObjectCommand({ Bucket: 'berth-test', Key: 'dir/hello.txt', Body: body, ContentType: 'text/plain' }));
  assert.equal(await read(), body);
  // A streamed upload (the case the SDK's default would send aws-chunked) stores the bytes as sent.
  const streamed = Buffer.from(body);
  await (await s3()).send(new PutObjectCommand({
    Bucket: 'berth-test', Key: 'dir/streamed.txt', Body: Readable.from([streamed.subarray(0, 5), streamed.subarray(5)]), ContentLength: streamed.length,
  }));
  const got = await (await s3()).send(new GetObjectCommand({ Bucket: 'berth-test', Key: 'dir/streamed.txt' }));
  assert.equal(await got.Body!.transformToString(), body);
  // The known limit, pinned down: s3rver knows one access key id and does not check secrets.
  await assert.rejects((await s3('SOMEONE-ELSE')).send(new ListBucketsCommand({})), /InvalidAccessKeyId|does not exist/);

  await restart(id);
  assert.equal(await until('s3rver after restart', id, 30_000, read), body);
});
