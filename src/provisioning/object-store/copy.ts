// Copies buckets from one S3 store to another, object by object, streamed: each GetObject body
// goes straight into the PutObject (or UploadPart) with its length, never held in memory. An
// object uploaded in parts is copied in the same parts, so the copy has the source's ETag and a
// later pass can tell it is the same. Content-Type, the other content headers and user metadata
// go along. Run by the copy worker (copy-worker.ts), never by the daemon (it loads the AWS SDK).
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, type GetObjectCommandOutput, HeadObjectCommand,
  type HeadObjectCommandOutput, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  type BucketTally, type CopyEvent, type CopyJob, decide, emptyTally, type Listed, pairByKey, partsOf, type S3Access, tallied,
} from './copy-plan.js';

const PROGRESS_EVERY_MS = 1000;
const TRIES = 3;
const COPIES_AT_ONCE = 4;

const clientFor = (a: S3Access) => new S3Client({
  endpoint: a.endpoint, region: a.region, forcePathStyle: true, maxAttempts: 3,
  credentials: { accessKeyId: a.accessKey, secretAccessKey: a.secretKey },
  requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  requestHandler: { connectionTimeout: 10_000, requestTimeout: 10 * 60_000 },
});

const statusOf = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const unquoted = (etag: string | undefined) => (etag ?? '').replace(/"/g, '');

/** A bucket's objects in key order, a page at a time; a destination bucket not made yet lists empty. */
async function* listing(s3: S3Client, bucket: string, o: { missingIsEmpty?: boolean } = {}): AsyncGenerator<Listed> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token, MaxKeys: 1000 })).catch((e) => {
      if (o.missingIsEmpty && statusOf(e) === 404) return null;
      throw e;
    });
    if (!page) return;
    for (const x of page.Contents ?? []) yield { key: x.Key!, size: x.Size ?? 0, etag: unquoted(x.ETag), lastModified: x.LastModified?.getTime() ?? 0 };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

async function* nothing(): AsyncGenerator<Listed> { /* a destination that does not exist yet */ }

/** The headers an object was stored with, as a PutObject takes them. */
const headersOf = (o: GetObjectCommandOutput | HeadObjectCommandOutput) => ({
  ContentType: o.ContentType, ContentEncoding: o.ContentEncoding, ContentDisposition: o.ContentDisposition, ContentLanguage: o.ContentLanguage,
  CacheControl: o.CacheControl, Expires: o.Expires, Metadata: o.Metadata,
});

/** One object as it is at `etag` (412 from the source when it changed since); returns its size. */
async function transfer(src: S3Client, dst: S3Client, bucket: string, key: string, etag: string): Promise<number> {
  const at = { Bucket: bucket, Key: key };
  const IfMatch = `"${etag}"`;
  const parts = partsOf(etag);
  if (!parts) {
    const got = await src.send(new GetObjectCommand({ ...at, IfMatch }));
    await dst.send(new PutObjectCommand({ ...at, Body: got.Body as Readable, ContentLength: got.ContentLength, ...headersOf(got) }));
    return got.ContentLength ?? 0;
  }
  const head = await src.send(new HeadObjectCommand({ ...at, IfMatch }));
  const { UploadId } = await dst.send(new CreateMultipartUploadCommand({ ...at, ...headersOf(head) }));
  try {
    const done = [];
    for (let n = 1; n <= parts; n++) {
      const part = await src.send(new GetObjectCommand({ ...at, IfMatch, PartNumber: n }));
      const up = await dst.send(new UploadPartCommand({ ...at, UploadId, PartNumber: n, Body: part.Body as Readable, ContentLength: part.ContentLength }));
      done.push({ PartNumber: n, ETag: up.ETag });
    }
    await dst.send(new CompleteMultipartUploadCommand({ ...at, UploadId, MultipartUpload: { Parts: done } }));
  } catch (e) {
    // the parts already sent would stay in the destination, unseen: take them back
    await dst.send(new AbortMultipartUploadCommand({ ...at, UploadId })).catch((ae: Error) => {
      if (statusOf(ae) !== 404) throw new Error(`${(e as Error).message}; aborting the upload of ${bucket}/${key} failed too: ${ae.message}`);
    });
    throw e;
  }
  return head.ContentLength ?? 0;
}

/** The source's ETag of the key now; null when it is gone. */
async function etagNow(src: S3Client, bucket: string, key: string): Promise<string | null> {
  return src.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then((h) => unquoted(h.ETag), (e) => {
    if (statusOf(e) === 404) return null;
    throw e;
  });
}

/** Copies one listed object; copied again when it changed while it was copied (a later pass
 *  would otherwise take the older copy, written after the change, for the newer one). */
async function copyOne(src: S3Client, dst: S3Client, bucket: string, o: Listed): Promise<{ gone: boolean; size: number }> {
  let etag = o.etag;
  for (let i = 0; i < TRIES; i++) {
    const size = await transfer(src, dst, bucket, o.key, etag).catch((e) => {
      if (statusOf(e) === 404) return null; // deleted in the source since it was listed
      if (statusOf(e) === 412) return -1; // changed since it was listed
      throw e;
    });
    if (size === null) return { gone: true, size: 0 };
    const now = await etagNow(src, bucket, o.key);
    if (now === null) return size >= 0 ? { gone: false, size } : { gone: true, size: 0 };
    if (size >= 0 && now === etag) return { gone: false, size };
    etag = now;
  }
  throw new Error(`${bucket}/${o.key} kept changing while it was copied (${TRIES} tries)`);
}

export class TestHookFailure extends Error {}

type Bucket = CopyJob['buckets'][number];

/** Runs a copy pass: bucket after bucket, reporting through `emit`. Throws on the first failure;
 *  `tallies` then holds how far each bucket got. */
export async function copyBuckets(job: CopyJob, emit: (e: CopyEvent) => void, tallies: BucketTally[] = []): Promise<BucketTally[]> {
  const src = clientFor(job.source);
  const pass = { started: 0 }; // copies begun in this pass (the test hook stops once as many as it says have begun)
  try {
    for (const b of job.buckets) {
      const i = tallies.push(emptyTally(b.app, b.bucket, Date.now())) - 1;
      const at = { get: () => tallies[i]!, set: (t: BucketTally) => { tallies[i] = t; } };
      await copyBucket(job, b, src, at, emit, pass);
      emit({ type: 'bucket', tally: at.get() }); // only once all of it is copied: the daemon counts the bucket as copied then
    }
    return tallies;
  } finally {
    src.destroy();
  }
}

/** One bucket: counted first (so that progress can say "120/340"), then walked beside the
 *  destination's listing; a few objects are copied at once (small ones cost round trips, not bandwidth). */
async function copyBucket(job: CopyJob, b: Bucket, src: S3Client, t: { get(): BucketTally; set(x: BucketTally): void }, emit: (e: CopyEvent) => void,
  pass: { started: number }): Promise<void> {
  for await (const o of listing(src, b.bucket)) {
    if (b.since === undefined || o.lastModified >= b.since) t.set({ ...t.get(), objects: t.get().objects + 1, bytes: t.get().bytes + o.size });
  }
  emit({ type: 'progress', tally: t.get() });
  const dst = b.dest ? clientFor(b.dest) : null;
  const copying = new Set<Promise<void>>();
  let failure: { e: unknown } | null = null;
  let hooked = false;
  let said = Date.now();
  try {
    for await (const [s, d] of pairByKey(listing(src, b.bucket), dst ? listing(dst, b.bucket, { missingIsEmpty: true }) : nothing())) {
      const decision = decide(s, d, b.since);
      if (decision !== 'copy' || job.dryRun || !dst) {
        t.set(tallied(t.get(), decision, s.size));
        continue;
      }
      if (job.failAfter !== undefined && pass.started >= job.failAfter) { hooked = true; break; }
      pass.started += 1;
      const one: Promise<void> = copyOne(src, dst, b.bucket, s).then((r) => {
        t.set(tallied(t.get(), r.gone ? 'gone' : 'copy', r.size));
        if (Date.now() - said >= PROGRESS_EVERY_MS) { emit({ type: 'progress', tally: t.get() }); said = Date.now(); }
      }, (e: unknown) => { failure ??= { e }; }).finally(() => copying.delete(one));
      copying.add(one);
      if (copying.size >= COPIES_AT_ONCE) await Promise.race(copying);
      if (failure) break;
    }
    await Promise.all(copying);
    if (failure) throw (failure as { e: unknown }).e;
    if (hooked) throw new TestHookFailure(`test hook: failing after ${pass.started} objects copied (BERTH_TEST_COPY_FAIL_AFTER)`);
  } finally {
    dst?.destroy();
  }
}
