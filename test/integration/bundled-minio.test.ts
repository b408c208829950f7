// The bundled object storage is MinIO when berth can get the MinIO image the first time object
// storage starts. No MinIO image exists here (no registry), so this test builds a stand-in image
// and names it with `berth up --minio-image`: its "server" forwards port 9000 to our MinIO fake
// (test/helpers/fake-minio.ts, running in this process, in front of a real s3rver), and its `mc`
// answers the health check. What runs for real: berth choosing MinIO and keeping that choice,
// the MinIO container spec (root user and password, command, data mount), provisioning per-app
// users through the container's address, and the env apps get.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../src/provisioning/minio/admin.js';
import { ensureS3Image, S3_IMAGE } from '../../src/runtime/docker/service-images.js';
import { EngineApi } from '../../src/runtime/docker/engine-api.js';
import { FakeMinio } from '../helpers/fake-minio.js';
import { docker, ensureSample, Platform, SAMPLE, until } from '../helpers/platform.js';
import { s3Client, S3Server } from '../helpers/s3-server.js';

const p = new Platform();
const vm = new S3Server(p);
const fakePort = vm.port + 2;
const standin = `berth-test/minio:standin-${p.instance}`;
let fake: FakeMinio;

// Runs as the stand-in's entrypoint (arguments such as `server /data` are ignored): forwards
// every connection on :9000 to the fake on the host, at the container's default gateway.
const FORWARD = `const net = require('net');
const fs = require('fs');
const route = fs.readFileSync('/proc/net/route', 'utf8').split('\\n').map((l) => l.split('\\t')).find((f) => f[1] === '00000000');
const gw = Buffer.from(route[2], 'hex').reverse().join('.');
net.createServer((c) => {
  const u = net.connect(Number(process.env.FAKE_PORT), gw);
  c.pipe(u).pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
}).listen(9000);
process.on('SIGTERM', () => process.exit(0));
`;
const MC = `#!/usr/bin/node
require('http').get('http://127.0.0.1:9000/minio/health/ready', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1));
`;

async function buildStandin(): Promise<void> {
  await ensureS3Image(new EngineApi(), () => undefined); // the base: node and s3rver's image
  const dir = mkdtempSync(join(tmpdir(), 'berth-minio-standin-'));
  try {
    writeFileSync(join(dir, 'forward.js'), FORWARD);
    writeFileSync(join(dir, 'mc'), MC, { mode: 0o755 });
    writeFileSync(join(dir, 'Dockerfile'), [`FROM ${S3_IMAGE}`, 'COPY forward.js /opt/standin/forward.js', 'COPY mc /usr/bin/mc',
      `ENV FAKE_PORT=${fakePort}`, 'ENTRYPOINT ["/usr/bin/node","/opt/standin/forward.js"]', ''].join('\n'));
    const stream = await docker.buildImage({ context: dir, src: ['Dockerfile', 'forward.js', 'mc'] }, { t: standin });
    await new Promise<void>((res, rej) => docker.modem.followProgress(stream, (err, out) => {
      const failed = (out as { error?: string }[] | undefined)?.find((o) => o.error);
      if (err || failed) rej(err ?? new Error(failed!.error)); else res();
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const containerOf = (s: string) => docker.getContainer(`${p.instance}-${s}`).inspect();
const usersOf = (app: string) => [...fake.users.keys()].filter((k) => k.startsWith(`app-${app}-`));

before(async () => {
  await buildStandin();
  await p.up(['--minio-image', standin]);
  await ensureSample(p);
  await vm.start();
  const secret = (f: string) => readFileSync(join(p.root, 'services', 's3-secrets', f), 'utf8');
  fake = new FakeMinio(secret('root_user'), secret('root_password'), { host: vm.gateway, port: vm.port });
  await fake.listen(vm.gateway, fakePort);
});
after(async () => {
  await fake?.close();
  await vm.stop();
  await p.destroy();
  await docker.getImage(standin).remove({ force: true }).catch(() => undefined);
});

test('berth up runs MinIO when its image can be had: root credentials of its own in 0600 files, MinIO\'s command, data under the root', async () => {
  const c = await containerOf('s3');
  assert.equal(c.Config.Image, standin);
  assert.deepEqual(c.Config.Cmd, ['server', '/data', '--address', ':9000']);
  // the root credentials are files (MINIO_ROOT_*_FILE), 0600, mounted read-only: not in the env
  assert.ok(c.Config.Env.includes('MINIO_ROOT_USER_FILE=/run/secrets/berth/root_user'));
  assert.ok(c.Config.Env.includes('MINIO_ROOT_PASSWORD_FILE=/run/secrets/berth/root_password'));
  assert.ok(!c.Config.Env.some((e) => e.includes(fake.rootSecret)));
  assert.equal(fake.rootUser, 'berth-admin');
  assert.match(fake.rootSecret, /^.{24,}$/);
  assert.equal(statSync(join(p.root, 'services', 's3-secrets', 'root_password')).mode & 0o777, 0o600);
  assert.deepEqual(c.HostConfig.Binds, [`${p.root}/services/s3:/data`, `${p.root}/services/s3-secrets:/run/secrets/berth:ro`]);
  await until(async () => (await containerOf('s3')).State.Health?.Status === 'healthy', 60_000, 'the MinIO health check (mc ready local) to pass');
  const s = await p.json<{ service: string; isolation?: string; image: string }[]>(['services']);
  assert.deepEqual(s.find((x) => x.service === 's3'), { ...s.find((x) => x.service === 's3'), isolation: 'user per app', image: standin });
});

test('apps get a MinIO user of their own through the bundled server; its key opens its bucket only', async () => {
  await p.ok(['apps', 'create', 'pics', '--domain', 'pics.localhost']);
  await p.ok(['apps', 'create', 'docs', '--domain', 'docs.localhost']);
  await p.ok(['deploy', 'pics', '--image', SAMPLE]);
  assert.deepEqual(fake.refused, []);
  const env = await p.appEnv('pics', ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY', 'S3_SECRET_KEY']);
  assert.equal(env.S3_ENDPOINT, `http://${p.instance}-s3:9000`);
  assert.equal(env.S3_BUCKET, 'app-pics');
  assert.deepEqual(usersOf('pics'), [env.S3_ACCESS_KEY]);
  assert.deepEqual(fake.users.get(env.S3_ACCESS_KEY)!.policies, ['berth-app-pics']);
  assert.equal(usersOf('docs').length, 1);
  // through the MinIO container's own address, as the app reaches it
  const ip = Object.values((await containerOf('s3')).NetworkSettings.Networks)[0]!.IPAddress;
  const c = s3Client(`http://${ip}:9000`, env.S3_ACCESS_KEY, env.S3_SECRET_KEY);
  await c.send(new PutObjectCommand({ Bucket: 'app-pics', Key: 'cat.jpg', Body: 'meow' }));
  assert.equal(await (await c.send(new GetObjectCommand({ Bucket: 'app-pics', Key: 'cat.jpg' }))).Body!.transformToString(), 'meow');
  await assert.rejects(c.send(new PutObjectCommand({ Bucket: 'app-docs', Key: 'x', Body: 'x' })), /Access Denied|AccessDenied/);
});

test('the choice sticks: berth up again keeps MinIO and its root credentials', async () => {
  const before = await containerOf('s3');
  const r = await p.up();
  assert.match(r.stdout, /services\s+ok/);
  const now = await containerOf('s3');
  assert.equal(now.Id, before.Id);
  assert.deepEqual(now.Config.Env, before.Config.Env);
  assert.equal(readFileSync(join(p.root, 'services', 's3-secrets', 'root_password'), 'utf8'), fake.rootSecret);
});

/** GET through Caddy as a browser would (127.0.0.1, SNI and Host of the URL). */
function browserGet(url: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((res, rej) => {
    const req = httpsRequest({ host: '127.0.0.1', port: Number(u.port), path: `${u.pathname}${u.search}`, servername: u.hostname, headers: { host: u.host }, ca: p.caRoot }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => { body += d; });
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.end();
  });
}

/** A presigned GET URL, as an app makes one for a browser with its own key. */
async function presign(endpoint: string, key: { S3_ACCESS_KEY: string; S3_SECRET_KEY: string }, path: string): Promise<string> {
  const u = new URL(endpoint);
  const signer = new SignatureV4({ service: 's3', region: 'us-east-1', sha256: Sha256, uriEscapePath: false, credentials: { accessKeyId: key.S3_ACCESS_KEY, secretAccessKey: key.S3_SECRET_KEY } });
  const r = await signer.presign({ method: 'GET', protocol: 'https:', hostname: u.hostname, port: Number(u.port), path, query: {}, headers: { host: u.host } }, { expiresIn: 300 });
  return `${endpoint}${path}?${new URLSearchParams(r.query as Record<string, string>)}`;
}

test('services expose s3: Caddy serves MinIO at a public domain, apps get S3_PUBLIC_ENDPOINT, presigned URLs work from a browser', async () => {
  const taken = await p.berth(['services', 'expose', 's3', '--domain', 'pics.localhost']);
  assert.equal(taken.code, 4, taken.stderr);
  assert.match(taken.stderr, /already used by app pics/);
  const r = await p.json<{ public_endpoint: string }>(['services', 'expose', 's3', '--domain', 's3.localhost']);
  const endpoint = `https://s3.localhost:${p.httpsPort}`;
  assert.equal(r.public_endpoint, endpoint);
  const listed = await p.json<{ service: string; public_endpoint?: string }[]>(['services']);
  assert.equal(listed.find((x) => x.service === 's3')!.public_endpoint, endpoint);
  const clash = await p.berth(['apps', 'create', 'other', '--domain', 's3.localhost']);
  assert.equal(clash.code, 4, clash.stderr);
  assert.match(clash.stderr, /public object storage endpoint/);

  await p.ok(['config', 'set', 'pics', 'COLOR=blue']); // a new release: it gets the public endpoint
  const env = await p.appEnv('pics', ['S3_PUBLIC_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY']);
  assert.equal(env.S3_PUBLIC_ENDPOINT, endpoint);
  const ok = await browserGet(await presign(endpoint, env, '/app-pics/cat.jpg'));
  assert.deepEqual(ok, { status: 200, body: 'meow' }, 'the presigned URL did not work through Caddy (is the Host header kept?)');
  const denied = await browserGet(await presign(endpoint, env, '/app-docs/secret.txt'));
  assert.equal(denied.status, 403);
  const forged = await browserGet((await presign(endpoint, env, '/app-pics/cat.jpg')).replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`));
  assert.equal(forged.status, 403);

  await p.ok(['services', 'expose', 's3', '--off']);
  // no route (404), or by now no certificate for the name either (TLS alert): either way, no object
  const after = await browserGet(await presign(endpoint, env, '/app-pics/cat.jpg')).then((x) => String(x.status), (e: Error) => e.message);
  assert.match(after, /^404$|alert/);
  await p.ok(['apps', 'create', 'other', '--domain', 's3.localhost']); // the domain is free again
});
