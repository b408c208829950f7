// Runs INSIDE a container on the platform network (see attacker.ts): tries each S3 request it
// is given, signed with a key or not signed at all, and prints one JSON line of what the object
// store answered. A hostile app would do exactly this from its own container.
import { DeleteObjectCommand, GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

export interface ProbeOp {
  op: 'get' | 'put' | 'list' | 'delete' | 'buckets';
  bucket?: string;
  key?: string;
  body?: string;
  /** null: an unsigned (anonymous) request */
  cred: { accessKey: string; secretKey: string } | null;
}
export interface ProbeResult { status: number; body: string }

async function unsigned(endpoint: string, o: ProbeOp): Promise<ProbeResult> {
  const path = o.op === 'buckets' ? '/' : o.op === 'list' ? `/${o.bucket}?list-type=2` : `/${o.bucket}/${o.key}`;
  const method = { get: 'GET', list: 'GET', buckets: 'GET', put: 'PUT', delete: 'DELETE' }[o.op];
  const res = await fetch(`${endpoint}${path}`, { method, body: o.op === 'put' ? o.body ?? '' : undefined, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.text()).slice(0, 400) };
}

async function signed(endpoint: string, region: string, o: ProbeOp): Promise<ProbeResult> {
  const s3 = new S3Client({
    endpoint, region, forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: o.cred!.accessKey, secretAccessKey: o.cred!.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    const b = { Bucket: o.bucket!, Key: o.key! };
    if (o.op === 'get') return { status: 200, body: await (await s3.send(new GetObjectCommand(b))).Body!.transformToString() };
    if (o.op === 'put') { await s3.send(new PutObjectCommand({ ...b, Body: o.body ?? '' })); return { status: 200, body: '' }; }
    if (o.op === 'delete') { await s3.send(new DeleteObjectCommand(b)); return { status: 204, body: '' }; }
    if (o.op === 'list') {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: o.bucket! }));
      return { status: 200, body: (r.Contents ?? []).map((c) => c.Key).join(',') };
    }
    const r = await s3.send(new ListBucketsCommand({}));
    return { status: 200, body: (r.Buckets ?? []).map((x) => x.Name).join(',') };
  } catch (e) {
    const err = e as { $metadata?: { httpStatusCode?: number }; name?: string; message?: string };
    return { status: err.$metadata?.httpStatusCode ?? 0, body: `${err.name}: ${err.message}` };
  } finally {
    s3.destroy();
  }
}

const [endpoint, region, opsJson] = process.argv.slice(2);
const ops = JSON.parse(opsJson!) as ProbeOp[];
const out: ProbeResult[] = [];
for (const o of ops) {
  out.push(o.cred ? await signed(endpoint!, region!, o) : await unsigned(endpoint!, o).catch((e: Error) => ({ status: 0, body: e.message })));
}
process.stdout.write(`${JSON.stringify(out)}\n`);
