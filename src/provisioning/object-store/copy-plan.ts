// What a copy of one bucket to another store does with each object, decided from the two
// listings alone (pure): key, size, ETag and last-modified time. The copier (copy.ts) walks both
// listings side by side (each sorted by key, as S3 lists them) and acts on these decisions.

/** An object as a listing shows it; `lastModified` in ms since the epoch. */
export interface Listed { key: string; size: number; etag: string; lastModified: number }

/** copy: missing or different in the destination; same: there with the same size and ETag;
 *  newer: different there, but written there after the source's last change (by the app's new
 *  release, after the switch): kept; old: changed last before the window a catch-up pass looks
 *  at (copied by the pass before the switch; one missing now was deleted there since). */
export type Decision = 'copy' | 'same' | 'newer' | 'old';

/** The copy keeps the source's ETag (parts as in the source), so equal size and ETag mean the
 *  same content. `since`: a catch-up pass, which only looks at objects changed from then on. */
export function decide(src: Listed, dst: Listed | undefined, since?: number): Decision {
  if (since !== undefined && src.lastModified < since) return 'old';
  if (!dst) return 'copy';
  if (dst.size === src.size && dst.etag === src.etag) return 'same';
  return dst.lastModified > src.lastModified ? 'newer' : 'copy';
}

/** Keys in the order S3 lists them: by their UTF-8 bytes (JavaScript's < compares UTF-16 units). */
export const compareKeys = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Each source object with the destination object of the same key, if any, from two listings in
 *  key order; memory stays one listing page each, whatever the bucket holds. */
export async function* pairByKey(src: AsyncIterable<Listed>, dst: AsyncIterable<Listed>): AsyncGenerator<[Listed, Listed | undefined]> {
  const d = dst[Symbol.asyncIterator]();
  let head = await d.next();
  for await (const s of src) {
    while (!head.done && compareKeys(head.value.key, s.key) < 0) head = await d.next();
    yield [s, !head.done && head.value.key === s.key ? head.value : undefined];
  }
}

/** How many parts the source was uploaded in, from its ETag ("md5-N"); 0 for a single PUT. */
export function partsOf(etag: string): number {
  const m = /-(\d+)"?$/.exec(etag);
  return m ? Number(m[1]) : 0;
}

/** How far one bucket's copy got; `started` (ms): when its listing began, the next catch-up
 *  pass's window starts a margin before it. */
export interface BucketTally {
  app: string; bucket: string;
  /** objects and bytes in the source that this pass looks at */
  objects: number; bytes: number;
  /** handled so far (copied or skipped) */
  done: number;
  copied: number; copiedBytes: number; same: number; newer: number; old: number;
  /** listed, then deleted in the source before it could be copied */
  gone: number;
  started: number;
}

export const emptyTally = (app: string, bucket: string, started: number): BucketTally =>
  ({ app, bucket, objects: 0, bytes: 0, done: 0, copied: 0, copiedBytes: 0, same: 0, newer: 0, old: 0, gone: 0, started });

/** The tally after one object's decision (pure); objects before a catch-up pass's window are
 *  not among the ones it looks at (`objects`), so they do not count as done either. */
export function tallied(t: BucketTally, d: Decision | 'gone', size: number): BucketTally {
  if (d === 'old') return { ...t, old: t.old + 1 };
  const n = { ...t, done: t.done + 1 };
  if (d === 'copy') return { ...n, copied: t.copied + 1, copiedBytes: t.copiedBytes + size };
  return { ...n, [d]: t[d] + 1 };
}

/** Where the copier reaches a store, with a key that may read (the source) or write (the destination). */
export interface S3Access { endpoint: string; region: string; accessKey: string; secretKey: string }

/** One copy pass, run in a process of its own (copy-worker.ts): each app's bucket from the
 *  source (with its administrator's key) to the destination (with the app's own new key; null in
 *  a dry run before the destination exists: all of it would be copied). */
export interface CopyJob {
  source: S3Access;
  buckets: { app: string; bucket: string; dest: S3Access | null; since?: number }[];
  dryRun?: boolean;
  /** test hook (BERTH_TEST_COPY_FAIL_AFTER): fail once this many objects were copied */
  failAfter?: number;
}

/** What the copier reports, one JSON line each: how far a bucket got (now and then, and when it
 *  is done), then the result, or the error with the tallies so far. */
export type CopyEvent =
  | { type: 'progress' | 'bucket'; tally: BucketTally }
  | { type: 'result'; buckets: BucketTally[] }
  | { type: 'error'; message: string; buckets: BucketTally[] };
