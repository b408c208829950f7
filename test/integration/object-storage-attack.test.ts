// The bundled object store as a hostile app sees it: from a container on app A's network, with
// A's own key (read from A's container, as A's code would have it) or with no key at all, try
// to read, write, list and delete what app B keeps. Every such request must be refused; A's own
// bucket must keep working. On berth before Garage (s3rver fallback) anonymous PUT and GET
// succeeded and A's key opened B's bucket.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { probeS3 } from '../helpers/attacker.js';
import type { ProbeOp } from '../helpers/s3-probe.js';
import { docker, platformWithApps, Platform } from '../helpers/platform.js';
import { browserGetVia, presignGet } from '../helpers/presign.js';

const p = new Platform();
type S3Env = { S3_ENDPOINT: string; S3_BUCKET: string; S3_ACCESS_KEY: string; S3_SECRET_KEY: string; S3_REGION: string };
let a: S3Env;
let b: S3Env;
let network = '';
let byAddress = ''; // the store's own address: an attacker needs no name (and s3rver took a name for a bucket)

async function envOf(app: string): Promise<S3Env> {
  const c = await docker.getContainer(`${p.instance}-${app}-web`).inspect();
  network ||= Object.keys(c.NetworkSettings.Networks)[0]!;
  return Object.fromEntries(c.Config.Env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) as unknown as S3Env;
}
const keyOf = (e: S3Env) => ({ accessKey: e.S3_ACCESS_KEY, secretKey: e.S3_SECRET_KEY });
const probe = (ops: ProbeOp[], endpoint = byAddress) => probeS3(p, network, endpoint, a.S3_REGION, ops);

before(async () => {
  await platformWithApps(p, ['alice', 'bob']);
  a = await envOf('alice');
  b = await envOf('bob');
  const s3 = await docker.getContainer(`${p.instance}-s3`).inspect();
  byAddress = `http://${s3.NetworkSettings.Networks[network]!.IPAddress}:${new URL(a.S3_ENDPOINT).port}`;
  const [put] = await probe([{ op: 'put', bucket: b.S3_BUCKET, key: 'secret.txt', body: 'bob only', cred: keyOf(b) }]);
  assert.equal(put!.status, 200, `bob cannot write its own bucket: ${put!.body}`);
});
after(() => p.destroy());

test('unsigned (anonymous) object storage requests are refused', async () => {
  const r = await probe([
    { op: 'get', bucket: b.S3_BUCKET, key: 'secret.txt', cred: null },
    { op: 'put', bucket: b.S3_BUCKET, key: 'evil.txt', body: 'anonymous', cred: null },
    { op: 'list', bucket: b.S3_BUCKET, cred: null },
    { op: 'buckets', cred: null },
    { op: 'delete', bucket: b.S3_BUCKET, key: 'secret.txt', cred: null },
  ]);
  for (const [i, x] of r.entries()) assert.ok(x.status >= 400 && x.status < 500, `anonymous request ${i} got ${x.status}: ${x.body}`);
  const [still] = await probe([{ op: 'get', bucket: b.S3_BUCKET, key: 'secret.txt', cred: keyOf(b) }]);
  assert.deepEqual(still, { status: 200, body: 'bob only' });
});

test('app A\'s key cannot read or write app B\'s bucket; its own bucket works', async () => {
  assert.notEqual(a.S3_ACCESS_KEY, b.S3_ACCESS_KEY, 'the two apps share one key');
  const r = await probe([
    { op: 'get', bucket: b.S3_BUCKET, key: 'secret.txt', cred: keyOf(a) },
    { op: 'put', bucket: b.S3_BUCKET, key: 'evil.txt', body: 'from alice', cred: keyOf(a) },
    { op: 'list', bucket: b.S3_BUCKET, cred: keyOf(a) },
    { op: 'delete', bucket: b.S3_BUCKET, key: 'secret.txt', cred: keyOf(a) },
  ]);
  for (const [i, x] of r.entries()) assert.ok(x.status === 403 || x.status === 404, `alice's request ${i} on bob's bucket got ${x.status}: ${x.body}`);
  const [buckets] = await probe([{ op: 'buckets', cred: keyOf(a) }]);
  assert.ok(!buckets!.body.split(',').includes(b.S3_BUCKET), `alice's key lists bob's bucket: ${buckets!.body}`);
  const own = await probe([
    { op: 'put', bucket: a.S3_BUCKET, key: 'mine.txt', body: 'alice data', cred: keyOf(a) },
    { op: 'get', bucket: a.S3_BUCKET, key: 'mine.txt', cred: keyOf(a) },
  ], a.S3_ENDPOINT); // as the app itself reaches it: by name
  assert.deepEqual(own, [{ status: 200, body: '' }, { status: 200, body: 'alice data' }]);
  const [still] = await probe([{ op: 'get', bucket: b.S3_BUCKET, key: 'secret.txt', cred: keyOf(b) }]);
  assert.deepEqual(still, { status: 200, body: 'bob only' });
});

test('the bundled store at a public domain: an app\'s presigned URL works through Caddy; forged, unsigned or other-bucket URLs do not', async () => {
  await p.ok(['services', 'expose', 's3', '--domain', 's3.localhost']);
  const endpoint = `https://s3.localhost:${p.httpsPort}`;
  const url = (key: S3Env, path: string) => presignGet(endpoint, key, path, a.S3_REGION);
  const [put] = await probe([{ op: 'put', bucket: a.S3_BUCKET, key: 'public.txt', body: 'shared by link', cred: keyOf(a) }]);
  assert.equal(put!.status, 200, put!.body);
  assert.deepEqual(await browserGetVia(p, await url(a, `/${a.S3_BUCKET}/public.txt`)), { status: 200, body: 'shared by link' });
  assert.equal((await browserGetVia(p, await url(a, `/${b.S3_BUCKET}/secret.txt`))).status, 403, 'alice\'s link opened bob\'s object');
  const forged = (await url(a, `/${a.S3_BUCKET}/public.txt`)).replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`);
  assert.equal((await browserGetVia(p, forged)).status, 403);
  assert.equal((await browserGetVia(p, `${endpoint}/${b.S3_BUCKET}/secret.txt`)).status, 403, 'an unsigned GET through Caddy');
});
