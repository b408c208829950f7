// A bundled MinIO, as platforms that chose it before Garage run it (or an operator who names a
// MinIO image: berth up --minio-image). MinIO publishes no images any more, so this runs the
// real MinIO server built from source (scripts/build-object-stores.sh minio) in berth's local
// image. What runs for real: berth choosing MinIO and keeping that choice, the container spec
// (root user and password in files, command, data mount), per-app users through MinIO's admin
// API (SigV4, encrypted bodies), MinIO's own policy checks, Caddy in front for presigned URLs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { userInfo } from '../../src/provisioning/minio/admin.js';
import { ensureMinioImage, MINIO_LOCAL_IMAGE } from '../../src/runtime/docker/object-store-images.js';
import { EngineApi } from '../../src/runtime/docker/engine-api.js';
import { docker, ensureSample, Platform, SAMPLE, until } from '../helpers/platform.js';
import { s3Client } from '../helpers/s3-client.js';
import { browserGetVia, presignGet } from '../helpers/presign.js';

const p = new Platform();
const image = MINIO_LOCAL_IMAGE;
let rootSecret = '';

const containerOf = (s: string) => docker.getContainer(`${p.instance}-${s}`).inspect();
const ipOfS3 = async () => Object.values((await containerOf('s3')).NetworkSettings.Networks)[0]!.IPAddress;
const admin = async () => ({ endpoint: `http://${await ipOfS3()}:9000`, region: 'us-east-1', accessKey: 'berth-admin', secretKey: rootSecret });

before(async () => {
  await ensureMinioImage(new EngineApi(), () => undefined);
  await p.up(['--minio-image', image]);
  await ensureSample(p);
  rootSecret = readFileSync(join(p.root, 'services', 's3-secrets', 'root_password'), 'utf8');
});
after(() => p.destroy());

test('berth up runs MinIO when its image can be had: root credentials of its own in 0600 files, MinIO\'s command, data under the root', async () => {
  const c = await containerOf('s3');
  assert.equal(c.Config.Image, image);
  assert.deepEqual(c.Config.Cmd, ['server', '/data', '--address', ':9000']);
  // the root credentials are files (MINIO_ROOT_*_FILE), 0600, mounted read-only: not in the env
  assert.ok(c.Config.Env.includes('MINIO_ROOT_USER_FILE=/run/secrets/berth/root_user'));
  assert.ok(c.Config.Env.includes('MINIO_ROOT_PASSWORD_FILE=/run/secrets/berth/root_password'));
  assert.ok(!c.Config.Env.some((e) => e.includes(rootSecret)));
  assert.equal(readFileSync(join(p.root, 'services', 's3-secrets', 'root_user'), 'utf8'), 'berth-admin');
  assert.match(rootSecret, /^.{24,}$/);
  assert.equal(statSync(join(p.root, 'services', 's3-secrets', 'root_password')).mode & 0o777, 0o600);
  assert.deepEqual(c.HostConfig.Binds, [`${p.root}/services/s3:/data`, `${p.root}/services/s3-secrets:/run/secrets/berth:ro`]);
  await until(async () => (await containerOf('s3')).State.Health?.Status === 'healthy', 60_000, 'the MinIO health check (mc ready local) to pass');
  const s = await p.json<{ service: string; isolation?: string; image: string; store: string; warnings: string[] }[]>(['services']);
  const s3 = s.find((x) => x.service === 's3')!;
  assert.deepEqual([s3.store, s3.isolation, s3.image], ['minio', 'user per app', image]);
  assert.match(s3.warnings.join(), /no longer maintained upstream.*Garage with: berth services move s3 --to garage/, 'the warning names the move');
  assert.doesNotMatch(s3.warnings.join(), /CVE/, 'this build is from 2026-02-12, after the fix');
});

test('apps get a MinIO user of their own through the bundled server; its key opens its bucket only', async () => {
  await p.ok(['apps', 'create', 'pics', '--domain', 'pics.localhost']);
  await p.ok(['apps', 'create', 'docs', '--domain', 'docs.localhost']);
  await p.ok(['deploy', 'pics', '--image', SAMPLE]);
  const env = await p.appEnv('pics', ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY', 'S3_SECRET_KEY']);
  assert.equal(env.S3_ENDPOINT, `http://${p.instance}-s3:9000`);
  assert.equal(env.S3_BUCKET, 'app-pics');
  assert.match(env.S3_ACCESS_KEY, /^app-pics-[0-9a-f]{6}$/);
  assert.deepEqual(await userInfo(await admin(), env.S3_ACCESS_KEY).then((u) => [u?.policyName, u?.status]), ['berth-app-pics', 'enabled']);
  // through the MinIO container's own address, as the app reaches it
  const c = s3Client(`http://${await ipOfS3()}:9000`, env.S3_ACCESS_KEY, env.S3_SECRET_KEY);
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
  assert.equal(readFileSync(join(p.root, 'services', 's3-secrets', 'root_password'), 'utf8'), rootSecret);
});

const browserGet = (url: string) => browserGetVia(p, url);
const presign = (endpoint: string, key: { S3_ACCESS_KEY: string; S3_SECRET_KEY: string }, path: string) => presignGet(endpoint, key, path, 'us-east-1');

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
  // no route (404), or by now no certificate for the name either (a TLS alert, or the handshake closed): either way, no object
  const after = await browserGet(await presign(endpoint, env, '/app-pics/cat.jpg')).then((x) => String(x.status), (e: Error) => e.message);
  assert.match(after, /^404$|alert|socket hang up|ECONNRESET/);
  await p.ok(['apps', 'create', 'other', '--domain', 's3.localhost']); // the domain is free again
});
