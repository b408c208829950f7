// Object storage outside berth: `berth services set s3 --endpoint ...`, against a real MinIO
// server built from source (test/helpers/external-minio.ts), in two roles:
// - as a plain S3 server, through a key that may make buckets but cannot administer users (as
//   AWS S3, R2 or B2 keys are): berth can only make buckets; all apps share the key.
// - as MinIO with its root key: berth's MinIO provisioning runs for real on the wire: a user and
//   a bucket-only policy per app, rotation, purge, enforced by MinIO itself.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { addPolicy, addUser, attachPolicy, userInfo } from '../../src/provisioning/minio/admin.js';
import { ExternalMinio } from '../helpers/external-minio.js';
import { Load } from '../helpers/load.js';
import { docker, ensureSample, Platform, SAMPLE, sleep } from '../helpers/platform.js';
import { s3Client as s3 } from '../helpers/s3-client.js';

const p = new Platform();
const vm = new ExternalMinio(p);
const PLAIN = { accessKey: 'plain-s3-key', secretKey: `plain-${Math.random().toString(36).slice(2)}` };

const bucketsOnServer = async () => ((await s3(vm.endpoint, vm.rootUser, vm.rootSecret).send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name!);
const userOf = (accessKey: string) => userInfo(vm.admin, accessKey);

type S3Env = { S3_ENDPOINT: string; S3_BUCKET: string; S3_ACCESS_KEY: string; S3_SECRET_KEY: string; S3_REGION: string };
const s3Env = async (app: string) => (await p.appEnv(app, ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_REGION'])) as S3Env;
const setS3 = async (key: string, secret: string) =>
  p.berth(['services', 'set', 's3', '--endpoint', vm.endpoint, '--access-key', key, '--secret-key-stdin', '--json'], { input: secret });

before(async () => {
  await p.up();
  await ensureSample(p);
  await vm.start();
  // a key as a cloud S3 hands one out: buckets app-*, no admin rights
  await addPolicy(vm.admin, 'plain-s3', { Version: '2012-10-17', Statement: [
    { Effect: 'Allow', Action: ['s3:*'], Resource: ['arn:aws:s3:::app-*', 'arn:aws:s3:::app-*/*'] },
    { Effect: 'Allow', Action: ['s3:ListAllMyBuckets'], Resource: ['arn:aws:s3:::*'] }] });
  await addUser(vm.admin, PLAIN.accessKey, PLAIN.secretKey);
  await attachPolicy(vm.admin, PLAIN.accessKey, 'plain-s3');
});
after(async () => {
  await vm.stop();
  await p.destroy();
});

test('an S3 without an admin API for that key: a bucket per app on the key given, and the isolation said plainly', async () => {
  const r = await setS3(PLAIN.accessKey, PLAIN.secretKey);
  assert.equal(r.code, 0, r.stderr);
  const set = JSON.parse(r.stdout) as { mode: string; isolation: string };
  assert.equal(set.mode, 'external');
  assert.match(set.isolation, /all apps use the key you gave/);
  assert.equal((await docker.listContainers({ all: true, filters: { name: [`^/${p.instance}-s3$`] } })).length, 0, 'the bundled S3 container still exists');

  await p.ok(['apps', 'create', 'plain', '--domain', 'plain.localhost']);
  await p.ok(['deploy', 'plain', '--image', SAMPLE]);
  const env = await s3Env('plain');
  assert.deepEqual({ ...env, S3_SECRET_KEY: undefined },
    { S3_ENDPOINT: vm.endpoint, S3_BUCKET: 'app-plain', S3_ACCESS_KEY: PLAIN.accessKey, S3_SECRET_KEY: undefined, S3_REGION: 'us-east-1' });
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
  const r = await setS3(vm.rootUser, 'not-the-secret');
  assert.equal(r.code, 10, r.stderr);
  assert.match(r.stderr, /signature/i);
  const s = await p.json<{ service: string; state: string; host?: string }[]>(['services']);
  assert.equal(s.find((x) => x.service === 's3')!.state, 'external');
});

test('MinIO: each app gets a user whose policy allows its own bucket and nothing else', async () => {
  const r = await setS3(vm.rootUser, vm.rootSecret);
  assert.equal(r.code, 0, r.stderr);
  assert.match(JSON.parse(r.stdout).isolation, /MinIO user whose policy allows only that bucket/);
  await p.ok(['apps', 'create', 'm1', '--domain', 'm1.localhost']);
  await p.ok(['apps', 'create', 'm2', '--domain', 'm2.localhost']);
  await p.ok(['deploy', 'm1', '--image', SAMPLE]);
  await p.ok(['deploy', 'm2', '--image', SAMPLE]);

  const e1 = await s3Env('m1');
  const e2 = await s3Env('m2');
  assert.equal(e1.S3_ENDPOINT, vm.endpoint);
  assert.match(e1.S3_ACCESS_KEY, /^app-m1-[0-9a-f]{6}$/);
  assert.equal((await userOf(e1.S3_ACCESS_KEY))?.policyName, 'berth-app-m1');
  assert.equal((await userOf(e2.S3_ACCESS_KEY))?.policyName, 'berth-app-m2');
  assert.notEqual(e1.S3_SECRET_KEY, e2.S3_SECRET_KEY);
  const c1 = s3(e1.S3_ENDPOINT, e1.S3_ACCESS_KEY, e1.S3_SECRET_KEY);
  const c2 = s3(e2.S3_ENDPOINT, e2.S3_ACCESS_KEY, e2.S3_SECRET_KEY);
  await c1.send(new PutObjectCommand({ Bucket: 'app-m1', Key: 'a.txt', Body: 'm1 data' }));
  await c2.send(new PutObjectCommand({ Bucket: 'app-m2', Key: 'b.txt', Body: 'm2 data' }));
  await assert.rejects(c1.send(new GetObjectCommand({ Bucket: 'app-m2', Key: 'b.txt' })), /Access Denied|AccessDenied/);
  await assert.rejects(c1.send(new PutObjectCommand({ Bucket: 'app-m2', Key: 'x', Body: 'x' })), /Access Denied|AccessDenied/);
  await assert.rejects(c1.send(new ListObjectsV2Command({ Bucket: 'app-m2' })), /Access Denied|AccessDenied/);
  await assert.rejects(c2.send(new GetObjectCommand({ Bucket: 'app-m1', Key: 'a.txt' })), /Access Denied|AccessDenied/);
  // the real MinIO lists the buckets a user may use (our earlier fake refused the call)
  const listed = await c1.send(new ListBucketsCommand({})).then((x) => (x.Buckets ?? []).map((b) => b.Name), (e: Error) => e.message);
  assert.ok(Array.isArray(listed) ? !listed.includes('app-m2') : /Access ?Denied/.test(listed), JSON.stringify(listed));
});

test('MinIO: apps create again keeps the key; a user lost behind berth\'s back comes back with the same secret', async () => {
  const e1 = await s3Env('m1');
  await p.ok(['apps', 'create', 'm1', '--domain', 'm1.localhost']);
  assert.equal((await userOf(e1.S3_ACCESS_KEY))?.policyName, 'berth-app-m1');
  await (await import('../../src/provisioning/minio/admin.js')).removeUser(vm.admin, e1.S3_ACCESS_KEY);
  assert.equal(await userOf(e1.S3_ACCESS_KEY), null);
  await p.ok(['apps', 'create', 'm1', '--domain', 'm1.localhost']);
  const c1 = s3(e1.S3_ENDPOINT, e1.S3_ACCESS_KEY, e1.S3_SECRET_KEY);
  assert.equal(await (await c1.send(new GetObjectCommand({ Bucket: 'app-m1', Key: 'a.txt' }))).Body!.transformToString(), 'm1 data');
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
  assert.equal(await userOf(old.S3_ACCESS_KEY), null, 'the old user was not removed');
  const fresh = s3(now.S3_ENDPOINT, now.S3_ACCESS_KEY, now.S3_SECRET_KEY);
  assert.equal(await (await fresh.send(new GetObjectCommand({ Bucket: 'app-m1', Key: 'a.txt' }))).Body!.transformToString(), 'm1 data');
  await assert.rejects(s3(old.S3_ENDPOINT, old.S3_ACCESS_KEY, old.S3_SECRET_KEY).send(new GetObjectCommand({ Bucket: 'app-m1', Key: 'a.txt' })), /InvalidAccessKeyId|access key/i);
});

test('MinIO: delete --purge removes the app\'s user, policy and bucket; the other app keeps its own', async () => {
  const e2 = await s3Env('m2');
  await p.ok(['apps', 'delete', 'm2', '--purge', '--yes']);
  assert.equal(await userOf(e2.S3_ACCESS_KEY), null);
  const buckets = await bucketsOnServer();
  assert.ok(!buckets.includes('app-m2') && buckets.includes('app-m1'), JSON.stringify(buckets));
  assert.equal((await userOf((await s3Env('m1')).S3_ACCESS_KEY))?.policyName, 'berth-app-m1');
});
