// Moving a platform's bundled MinIO to Garage (`berth services move s3 --to garage`), on real
// servers: the MinIO built from source as platforms from before Garage run it, berth's build of
// Garage beside it, the real daemon, Caddy and app containers. Two apps wrote objects (one of
// 20 MiB uploaded in parts; one with a content type and user metadata, and more objects than a
// listing page); the move is made to fail half way first (a test hook in the copier), then cut
// short by a killed daemon after the switch, with writes to MinIO before and after it; then
// finished by running it again.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ensureMinioImage, MINIO_LOCAL_IMAGE } from '../../src/runtime/docker/object-store-images.js';
import { EngineApi } from '../../src/runtime/docker/engine-api.js';
import { docker, ensureSample, Platform, SAMPLE, until } from '../helpers/platform.js';
import { s3Client } from '../helpers/s3-client.js';
import { presignGet } from '../helpers/presign.js';

const p = new Platform();
type S3Env = { S3_ENDPOINT: string; S3_BUCKET: string; S3_ACCESS_KEY: string; S3_SECRET_KEY: string; S3_REGION: string };
const s3Env = (app: string) => p.appEnv<S3Env>(app, ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_REGION']);
const ipOf = async (name: string) => (await docker.getContainer(name).inspect()).NetworkSettings.Networks[p.instance]!.IPAddress;
const minioAt = async () => `http://${await ipOf(`${p.instance}-s3`)}:9000`;
const garageAt = async () => `http://${await ipOf(`${p.instance}-s3-garage`)}:9000`;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const releasesOf = (app: string) => p.json<{ release: string; state: string; note: string | null }[]>(['releases', app]);
async function keysIn(c: ReturnType<typeof s3Client>, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await c.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}
/** docs holds more objects than one listing page (1000): the copy pairs the two stores' listings page by page */
const THUMBS = Array.from({ length: 1100 }, (_, i) => `thumbs/${String(i).padStart(4, '0')}.txt`);
const DOCS = ['notes/1.txt', 'notes/2.txt', 'notes/ü 3.txt', 'report.pdf', ...THUMBS].sort();

const BIG = randomBytes(20 * 1024 * 1024);
const paused = join(p.root, 'run', 'paused');
let before1: { pics: S3Env; docs: S3Env };

before(async () => {
  await ensureMinioImage(new EngineApi(), () => undefined);
  await p.up(['--minio-image', MINIO_LOCAL_IMAGE]);
  await ensureSample(p);
  for (const app of ['pics', 'docs']) {
    await p.ok(['apps', 'create', app, '--domain', `${app}.localhost`]);
    await p.ok(['deploy', app, '--image', SAMPLE]);
  }
  before1 = { pics: await s3Env('pics'), docs: await s3Env('docs') };
  // written with each app's own MinIO key, as the apps would
  const pics = s3Client(await minioAt(), before1.pics.S3_ACCESS_KEY, before1.pics.S3_SECRET_KEY);
  const up = await pics.send(new CreateMultipartUploadCommand({ Bucket: 'app-pics', Key: 'big.bin', ContentType: 'application/octet-stream' }));
  const parts = [];
  for (let i = 0, n = 1; i < BIG.length; i += 8 * 1024 * 1024, n++) {
    const body = BIG.subarray(i, i + 8 * 1024 * 1024);
    const r = await pics.send(new UploadPartCommand({ Bucket: 'app-pics', Key: 'big.bin', UploadId: up.UploadId, PartNumber: n, Body: body,
      ContentLength: body.length }));
    parts.push({ PartNumber: n, ETag: r.ETag });
  }
  await pics.send(new CompleteMultipartUploadCommand({ Bucket: 'app-pics', Key: 'big.bin', UploadId: up.UploadId, MultipartUpload: { Parts: parts } }));
  for (const k of ['cat.jpg', 'album/dog.jpg']) {
    await pics.send(new PutObjectCommand({ Bucket: 'app-pics', Key: k, Body: `photo ${k}`, ContentType: 'image/jpeg' }));
  }
  const docs = s3Client(await minioAt(), before1.docs.S3_ACCESS_KEY, before1.docs.S3_SECRET_KEY);
  await docs.send(new PutObjectCommand({ Bucket: 'app-docs', Key: 'report.pdf', Body: '%PDF-1.7 report', ContentType: 'application/pdf',
    Metadata: { author: 'ann', 'x-id': '42' }, CacheControl: 'max-age=60', ContentDisposition: 'attachment; filename="report.pdf"' }));
  for (const k of ['notes/1.txt', 'notes/2.txt', 'notes/ü 3.txt']) await docs.send(new PutObjectCommand({ Bucket: 'app-docs', Key: k, Body: `note ${k}` }));
  for (let i = 0; i < THUMBS.length; i += 50) {
    await Promise.all(THUMBS.slice(i, i + 50).map((k) => docs.send(new PutObjectCommand({ Bucket: 'app-docs', Key: k, Body: k }))));
  }
});
after(() => p.destroy());

test('move refuses what it cannot do, and --dry-run says what would be copied without changing anything', async () => {
  const wrong = await p.berth(['services', 'move', 's3', '--to', 'minio']);
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, /garage/);
  const pg = await p.berth(['services', 'move', 'postgres', '--to', 'garage']);
  assert.equal(pg.code, 2, pg.stderr);

  const plan = await p.json<{ dry_run: boolean; buckets: { app: string; bucket: string; objects: number; bytes: number; to_copy: number }[] }>(
    ['services', 'move', 's3', '--to', 'garage', '--dry-run']);
  assert.equal(plan.dry_run, true);
  const by = Object.fromEntries(plan.buckets.map((b) => [b.app, b]));
  const picsBytes = BIG.length + 'photo cat.jpg'.length + 'photo album/dog.jpg'.length;
  assert.deepEqual([by.pics?.bucket, by.pics?.objects, by.pics?.to_copy, by.pics?.bytes], ['app-pics', 3, 3, picsBytes]);
  assert.deepEqual([by.docs?.objects, by.docs?.to_copy], [DOCS.length, DOCS.length]);
  const human = await p.ok(['services', 'move', 's3', '--to', 'garage', '--dry-run']);
  assert.match(human.stdout, /app-pics: 3 objects, 21\.0 MB/);
  assert.equal((await p.containers()).some((c) => c.name === `${p.instance}-s3-garage`), false, 'a dry run started Garage');
});

test('a move that fails half way leaves every app serving from MinIO as before', async () => {
  await p.restartDaemonWith({ BERTH_TEST_COPY_FAIL_AFTER: '2' });
  const r = await p.berth(['services', 'move', 's3', '--to', 'garage']);
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, /copying failed.*test hook/s);
  assert.match(r.stderr, /apps still use MinIO.*run the same command again/s);
  for (const app of ['pics', 'docs'] as const) {
    const env = await s3Env(app);
    assert.deepEqual(env, before1[app], `${app} no longer has its MinIO credentials`);
    assert.equal((await releasesOf(app)).length, 1, `${app} got a release`);
  }
  const pics = s3Client(await minioAt(), before1.pics.S3_ACCESS_KEY, before1.pics.S3_SECRET_KEY);
  assert.equal(await (await pics.send(new GetObjectCommand({ Bucket: 'app-pics', Key: 'cat.jpg' }))).Body!.transformToString(), 'photo cat.jpg');
  const s3 = (await p.json<{ service: string; store: string; warnings: string[] }[]>(['services'])).find((x) => x.service === 's3')!;
  assert.equal(s3.store, 'minio');
  assert.match(s3.warnings.join('\n'), /move to Garage is under way.*berth services move s3 --to garage/);
  assert.match(s3.warnings.join('\n'), /CVE|no longer maintained/);
});

test('the move, run again: Garage beside MinIO, progress, the switch; a daemon killed before any app rolled out leaves them serving from MinIO',
  async () => {
    await p.restartDaemonWith({ BERTH_TEST_PAUSE_AT: 's3move.switch,s3move.rollout', BERTH_TEST_HOLD: '1' });
    const running = p.berth(['services', 'move', 's3', '--to', 'garage'], { timeoutMs: 600_000 });
    const pausedAt = (step: string) => Promise.race([
      until(async () => existsSync(paused) && readFileSync(paused, 'utf8') === step, 300_000, `the move to pause at ${step}`),
      running.then((x) => { throw new Error(`the move ended before ${step} (${x.code}): ${x.stdout}\n${x.stderr}`); })]);
    await pausedAt('s3move.switch');
    // the apps' old releases keep writing to MinIO until they are replaced: before the switch, and after it
    const pics = s3Client(await minioAt(), before1.pics.S3_ACCESS_KEY, before1.pics.S3_SECRET_KEY);
    await pics.send(new PutObjectCommand({ Bucket: 'app-pics', Key: 'late.txt', Body: 'written before the switch', ContentType: 'text/plain' }));
    rmSync(paused);
    await pausedAt('s3move.rollout');
    await pics.send(new PutObjectCommand({ Bucket: 'app-pics', Key: 'later.txt', Body: 'written after the switch' }));
    p.killDaemon('SIGKILL');
    const cut = await running;
    assert.equal(cut.code, 10, cut.stderr);
    assert.match(cut.stderr, /lost the daemon.*the move stopped where it was/);
    assert.match(cut.stderr, /app pics: 3\/3 objects, 21\.0 MB copied/);
    assert.match(cut.stderr, /app docs: 1104\/1104 objects, .* \(2 already in Garage\)/, 'the failed run\'s copies were not skipped');

    await p.restartDaemonWith({});
    for (const app of ['pics', 'docs'] as const) {
      assert.deepEqual(await s3Env(app), before1[app], `${app}'s live release changed`);
      assert.equal((await p.get(`${app}.localhost`)).status, 200);
    }
    const s3 = (await p.json<{ service: string; store: string; warnings: string[] }[]>(['services'])).find((x) => x.service === 's3')!;
    assert.equal(s3.store, 'garage');
    assert.match(s3.warnings.join('\n'), /half done.*berth services move s3 --to garage/);
  });

test('the move, run once more, rolls every app out onto Garage with its new key, and copies what the old releases wrote meanwhile', async () => {
  const r = await p.berth(['services', 'move', 's3', '--to', 'garage'], { timeoutMs: 600_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /app pics: v2 serves from Garage/);
  assert.match(r.stderr, /app pics: 2 objects written to MinIO meanwhile copied/);
  assert.match(r.stderr, /app docs: nothing written to MinIO meanwhile needed copying/);
  assert.match(r.stdout, /deleted from MinIO .* not deleted in Garage/);
  assert.match(r.stdout, /berth services remove-old s3 --yes/);
  assert.equal(JSON.parse(readFileSync(join(p.root, 'berth.json'), 'utf8')).object_store, 'garage', 'the platform\'s setting');

  for (const app of ['pics', 'docs'] as const) {
    const env = await s3Env(app);
    assert.equal(env.S3_ENDPOINT, `http://${p.instance}-s3-garage:9000`);
    assert.equal(env.S3_REGION, 'garage');
    assert.match(env.S3_ACCESS_KEY, new RegExp(`^app-${app}-[0-9a-f]{6}$`));
    assert.notEqual(env.S3_ACCESS_KEY, before1[app].S3_ACCESS_KEY, 'a new key');
    const [live] = await releasesOf(app);
    assert.deepEqual([live!.state, live!.note], ['live', 'moved to Garage']);
  }
  const picsEnv = await s3Env('pics');
  const docsEnv = await s3Env('docs');
  const g = await garageAt();
  const newPics = s3Client(g, picsEnv.S3_ACCESS_KEY, picsEnv.S3_SECRET_KEY, 'garage');
  const newDocs = s3Client(g, docsEnv.S3_ACCESS_KEY, docsEnv.S3_SECRET_KEY, 'garage');
  assert.deepEqual(await keysIn(newPics, 'app-pics'), ['album/dog.jpg', 'big.bin', 'cat.jpg', 'late.txt', 'later.txt']);
  assert.deepEqual(await keysIn(newDocs, 'app-docs'), DOCS);
  const big = await newPics.send(new GetObjectCommand({ Bucket: 'app-pics', Key: 'big.bin' }));
  assert.equal(sha(await big.Body!.transformToByteArray()), sha(BIG));
  assert.equal((await newPics.send(new HeadObjectCommand({ Bucket: 'app-pics', Key: 'late.txt' }))).ContentType, 'text/plain');
  const report = await newDocs.send(new GetObjectCommand({ Bucket: 'app-docs', Key: 'report.pdf' }));
  assert.equal(await report.Body!.transformToString(), '%PDF-1.7 report');
  assert.deepEqual([report.ContentType, report.Metadata, report.CacheControl, report.ContentDisposition],
    ['application/pdf', { author: 'ann', 'x-id': '42' }, 'max-age=60', 'attachment; filename="report.pdf"']);
  // one app's new key opens its own bucket only
  await assert.rejects(newPics.send(new GetObjectCommand({ Bucket: 'app-docs', Key: 'report.pdf' })), /AccessDenied|Forbidden|not allowed/i);
  await assert.rejects(newPics.send(new ListObjectsV2Command({ Bucket: 'app-docs' })), /AccessDenied|Forbidden|not allowed/i);

  // from inside the app's container, on its own network, with the key it was given
  const url = await presignGet(picsEnv.S3_ENDPOINT, picsEnv, '/app-pics/late.txt', 'garage');
  const inApp = await new Promise<string>((res, rej) => execFile('docker', ['exec', `${p.instance}-pics-web`, 'node', '-e',
    'fetch(process.argv[1]).then(async (r) => process.stdout.write(`${r.status} ${await r.text()}`))', url], { timeout: 30_000 },
  (e, out, err) => (e ? rej(new Error(`${e.message} ${err}`)) : res(out))));
  assert.equal(inApp, '200 written before the switch');

  // a rollback would read MinIO again, whose data stopped at the move
  const back = await p.berth(['rollback', 'pics']);
  assert.equal(back.code, 4, back.stderr);
  assert.match(back.stderr, /v1 of pics reads object storage at http:\/\/t[a-z0-9]+-s3:9000, which the platform moved away from/);

  // the old store is kept: its container and its data directory
  assert.ok(existsSync(join(p.root, 'services', 's3', 'app-pics')), 'MinIO\'s data directory was touched');
  assert.ok((await p.containers()).some((c) => c.name === `${p.instance}-s3`), 'MinIO\'s container is gone');
  const s3 = (await p.json<{ service: string; store: string; isolation: string; warnings: string[] }[]>(['services'])).find((x) => x.service === 's3')!;
  assert.deepEqual([s3.store, s3.isolation], ['garage', 'key per app']);
  assert.match(s3.warnings.join('\n'), /old MinIO .* remove-old s3/);
});

test('the move run once more is a no-op that says so', async () => {
  await p.restartDaemonWith({});
  const releases = (await releasesOf('pics')).length;
  const r = await p.ok(['services', 'move', 's3', '--to', 'garage']);
  assert.match(r.stdout, /already moved to Garage.*nothing to do/);
  assert.equal((await releasesOf('pics')).length, releases, 'a release was made');
  const j = await p.json<{ moved: boolean }>(['services', 'move', 's3', '--to', 'garage']);
  assert.equal(j.moved, false);
});

test('remove-old asks first, then removes the old MinIO\'s container and data; the apps keep serving from Garage', async () => {
  const asked = await p.berth(['services', 'remove-old', 's3']);
  assert.equal(asked.code, 2, asked.stderr);
  assert.match(asked.stderr, /--yes/);
  assert.ok(existsSync(join(p.root, 'services', 's3')));
  const r = await p.json<{ removed: string[] }>(['services', 'remove-old', 's3', '--yes']);
  assert.ok(r.removed.length >= 2, JSON.stringify(r));
  assert.equal((await p.containers()).some((c) => c.name === `${p.instance}-s3`), false);
  assert.equal(existsSync(join(p.root, 'services', 's3')), false);
  const s3 = (await p.json<{ service: string; warnings: string[] }[]>(['services'])).find((x) => x.service === 's3')!;
  assert.deepEqual(s3.warnings, []);
  const again = await p.berth(['services', 'remove-old', 's3', '--yes']);
  assert.equal(again.code, 3, again.stderr);
  const env = await s3Env('pics');
  const c = s3Client(await garageAt(), env.S3_ACCESS_KEY, env.S3_SECRET_KEY, 'garage');
  assert.equal(await (await c.send(new GetObjectCommand({ Bucket: 'app-pics', Key: 'cat.jpg' }))).Body!.transformToString(), 'photo cat.jpg');
  await p.up(); // berth up afterwards keeps Garage where it is
  assert.equal((await s3Env('pics')).S3_ENDPOINT, `http://${p.instance}-s3-garage:9000`);
});
