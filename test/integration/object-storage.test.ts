// Object storage outside berth: `berth services set s3 --endpoint ...`.
// - A plain S3 server (a real S3 protocol server, s3rver, in its own container and network,
//   reached through a published port): berth can only make buckets; all apps share the key.
// - A MinIO server: MinIO cannot run here (no registry, not in Debian), so a fake of ours
//   (test/helpers/fake-minio.ts) stands in for its admin API and access checks, in front of the
//   same s3rver. Through it, berth's MinIO provisioning runs for real on the wire: a user and a
//   bucket-only policy per app, rotation, purge.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3RVER_ACCESS_KEY } from '../../src/runtime/docker/service-images.js';
import { FakeMinio } from '../helpers/fake-minio.js';
import { Load } from '../helpers/load.js';
import { docker, ensureSample, Platform, SAMPLE, sleep } from '../helpers/platform.js';
import { s3Client, S3Server } from '../helpers/s3-server.js';

const p = new Platform();
const vm = new S3Server(p);
const minioPort = vm.port + 1;
const ROOT = 'minio-root';
const ROOT_SECRET = `root-${Math.random().toString(36).slice(2)}`;
let fake: FakeMinio;

const s3 = s3Client;
const plainEndpoint = () => vm.endpoint;
const minioEndpoint = () => `http://${vm.gateway}:${minioPort}`;
const bucketsOnServer = () => vm.buckets();

type S3Env = { S3_ENDPOINT: string; S3_BUCKET: string; S3_ACCESS_KEY: string; S3_SECRET_KEY: string; S3_REGION: string };
const s3Env = async (app: string) => (await p.appEnv(app, ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_REGION'])) as S3Env;
const setS3 = async (endpoint: string, key: string, secret: string) => p.berth(['services', 'set', 's3', '--endpoint', endpoint, '--access-key', key, '--secret-key-stdin', '--json'], { input: secret });
const usersOf = (app: string) => [...fake.users.keys()].filter((k) => k.startsWith(`app-${app}-`));

before(async () => {
  await p.up();
  await ensureSample(p);
  await vm.start();
  fake = new FakeMinio(ROOT, ROOT_SECRET, { host: vm.gateway, port: vm.port });
  await fake.listen(vm.gateway, minioPort);
});
after(async () => {
  await fake?.close();
  await vm.stop();
  await p.destroy();
});

test('an S3 without MinIO\'s admin API: a bucket per app on the key given, and the isolation said plainly', async () => {
  const r = await setS3(plainEndpoint(), S3RVER_ACCESS_KEY, 'any-secret');
  assert.equal(r.code, 0, r.stderr);
  const set = JSON.parse(r.stdout) as { mode: string; isolation: string };
  assert.equal(set.mode, 'external');
  assert.match(set.isolation, /all apps use the key you gave/);
  assert.equal((await docker.listContainers({ all: true, filters: { name: [`^/${p.instance}-s3$`] } })).length, 0, 'the bundled S3 container still exists');

  await p.ok(['apps', 'create', 'plain', '--domain', 'plain.localhost']);
  await p.ok(['deploy', 'plain', '--image', SAMPLE]);
  const env = await s3Env('plain');
  assert.deepEqual({ ...env, S3_SECRET_KEY: undefined }, { S3_ENDPOINT: plainEndpoint(), S3_BUCKET: 'app-plain', S3_ACCESS_KEY: S3RVER_ACCESS_KEY, S3_SECRET_KEY: undefined, S3_REGION: 'us-east-1' });
  assert.ok((await bucketsOnServer()).includes('app-plain'));
  const client = s3(env.S3_ENDPOINT, env.S3_ACCESS_KEY, env.S3_SECRET_KEY);
  await client.send(new PutObjectCommand({ Bucket: env.S3_BUCKET, Key: 'hello.txt', Body: 'stored outside berth' }));
  assert.equal(await (await client.send(new GetObjectCommand({ Bucket: env.S3_BUCKET, Key: 'hello.txt' }))).Body!.transformToString(), 'stored outside berth');

  const rot = await p.berth(['apps', 'rotate', 'plain', '--s3']);
  assert.equal(rot.code, 2, rot.stderr);
  assert.match(rot.stderr, /shared S3 key/);

  await p.ok(['apps', 'delete', 'plain', '--purge', '--yes']);
  assert.ok(!(await bucketsOnServer()).includes('app-plain'), 'the purged bucket is still there');
});

test('MinIO: a wrong administrator key is refused and changes nothing', async () => {
  const r = await setS3(minioEndpoint(), ROOT, 'not-the-secret');
  assert.equal(r.code, 10, r.stderr);
  assert.match(r.stderr, /signature/i);
  const s = await p.json<{ service: string; state: string; host?: string }[]>(['services']);
  assert.equal(s.find((x) => x.service === 's3')!.state, 'external');
  assert.equal(fake.users.size, 0);
});

test('MinIO: each app gets a user whose policy allows its own bucket and nothing else', async () => {
  fake.refused.length = 0;
  const r = await setS3(minioEndpoint(), ROOT, ROOT_SECRET);
  assert.equal(r.code, 0, r.stderr);
  assert.match(JSON.parse(r.stdout).isolation, /MinIO user whose policy allows only that bucket/);
  await p.ok(['apps', 'create', 'm1', '--domain', 'm1.localhost']);
  await p.ok(['apps', 'create', 'm2', '--domain', 'm2.localhost']);
  await p.ok(['deploy', 'm1', '--image', SAMPLE]);
  await p.ok(['deploy', 'm2', '--image', SAMPLE]);
  assert.deepEqual(fake.refused, [], 'berth sent a request the server refused');

  const [u1] = usersOf('m1');
  const [u2] = usersOf('m2');
  assert.equal(usersOf('m1').length, 1);
  assert.deepEqual(fake.users.get(u1!)!.policies, ['berth-app-m1']);
  assert.deepEqual(fake.users.get(u2!)!.policies, ['berth-app-m2']);
  const resources = fake.policies.get('berth-app-m1')!.Statement.flatMap((s) => s.Resource);
  assert.deepEqual(resources.sort(), ['arn:aws:s3:::app-m1', 'arn:aws:s3:::app-m1/*']);

  const e1 = await s3Env('m1');
  const e2 = await s3Env('m2');
  assert.equal(e1.S3_ENDPOINT, minioEndpoint());
  assert.equal(e1.S3_ACCESS_KEY, u1);
  assert.equal(e1.S3_SECRET_KEY, fake.users.get(u1!)!.secretKey);
  assert.notEqual(e1.S3_SECRET_KEY, e2.S3_SECRET_KEY);
  const c1 = s3(e1.S3_ENDPOINT, e1.S3_ACCESS_KEY, e1.S3_SECRET_KEY);
  const c2 = s3(e2.S3_ENDPOINT, e2.S3_ACCESS_KEY, e2.S3_SECRET_KEY);
  await c1.send(new PutObjectCommand({ Bucket: 'app-m1', Key: 'a.txt', Body: 'm1 data' }));
  await c2.send(new PutObjectCommand({ Bucket: 'app-m2', Key: 'b.txt', Body: 'm2 data' }));
  await assert.rejects(c1.send(new GetObjectCommand({ Bucket: 'app-m2', Key: 'b.txt' })), /Access Denied|AccessDenied/);
  await assert.rejects(c1.send(new PutObjectCommand({ Bucket: 'app-m2', Key: 'x', Body: 'x' })), /Access Denied|AccessDenied/);
  await assert.rejects(c1.send(new ListObjectsV2Command({ Bucket: 'app-m2' })), /Access Denied|AccessDenied/);
  await assert.rejects(c2.send(new GetObjectCommand({ Bucket: 'app-m1', Key: 'a.txt' })), /Access Denied|AccessDenied/);
  await assert.rejects(c1.send(new ListBucketsCommand({})), /Access Denied|AccessDenied/);
});

test('MinIO: apps create again keeps the key; a user lost behind berth\'s back comes back with the same secret', async () => {
  const [u1] = usersOf('m1');
  const before = { ...fake.users.get(u1!)! };
  await p.ok(['apps', 'create', 'm1', '--domain', 'm1.localhost']);
  assert.deepEqual(usersOf('m1'), [u1]);
  assert.deepEqual(fake.users.get(u1!), before);
  fake.users.delete(u1!);
  await p.ok(['apps', 'create', 'm1', '--domain', 'm1.localhost']);
  assert.deepEqual(fake.users.get(u1!), before);
});

test('MinIO: rotating the S3 key under load: no failed request, the live release holds the new key, the old one is refused', async () => {
  const old = await s3Env('m1');
  const load = new Load({ port: p.httpsPort, host: 'm1.localhost', ca: p.caRoot }, 4);
  await sleep(300);
  const r = await p.json<{ rotated: string[]; deploy: { release: string } | null }>(['apps', 'rotate', 'm1', '--s3']);
  await sleep(300);
  const res = await load.stop();
  assert.equal(res.failed, 0, JSON.stringify(res.failures));
  assert.ok(res.total > 20, `only ${res.total} requests`);
  assert.deepEqual(r.rotated, ['s3']);
  assert.ok(r.deploy, 'no release was rolled out');
  const now = await s3Env('m1');
  assert.notEqual(now.S3_ACCESS_KEY, old.S3_ACCESS_KEY);
  assert.deepEqual(usersOf('m1'), [now.S3_ACCESS_KEY], 'the old user was not removed');
  const fresh = s3(now.S3_ENDPOINT, now.S3_ACCESS_KEY, now.S3_SECRET_KEY);
  assert.equal(await (await fresh.send(new GetObjectCommand({ Bucket: 'app-m1', Key: 'a.txt' }))).Body!.transformToString(), 'm1 data');
  await assert.rejects(s3(old.S3_ENDPOINT, old.S3_ACCESS_KEY, old.S3_SECRET_KEY).send(new GetObjectCommand({ Bucket: 'app-m1', Key: 'a.txt' })), /InvalidAccessKeyId|access key/i);
});

test('MinIO: delete --purge removes the app\'s user, policy and bucket; the other app keeps its own', async () => {
  await p.ok(['apps', 'delete', 'm2', '--purge', '--yes']);
  assert.deepEqual(usersOf('m2'), []);
  assert.ok(!fake.policies.has('berth-app-m2'));
  const buckets = await bucketsOnServer();
  assert.ok(!buckets.includes('app-m2') && buckets.includes('app-m1'), JSON.stringify(buckets));
  assert.equal(usersOf('m1').length, 1);
  assert.deepEqual(fake.refused.filter((x) => !/Access ?Denied|InvalidAccessKeyId|SignatureDoesNotMatch/.test(x)), []);
});
