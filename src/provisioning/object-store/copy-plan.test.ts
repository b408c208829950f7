import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareKeys, decide, emptyTally, type Listed, pairByKey, partsOf, tallied } from './copy-plan.js';

const o = (key: string, size: number, etag: string, lastModified: number): Listed => ({ key, size, etag, lastModified });

test('an object is copied when missing or different, skipped when the same size and ETag are there', () => {
  const src = o('a', 10, 'e1', 1000);
  assert.equal(decide(src, undefined), 'copy');
  assert.equal(decide(src, o('a', 10, 'e1', 500)), 'same', 'a copy keeps the source ETag (same parts): same whenever it was made');
  assert.equal(decide(src, o('a', 10, 'e2', 900)), 'copy', 'changed in the source after it was copied');
  assert.equal(decide(src, o('a', 11, 'e1', 900)), 'copy', 'same ETag, other size: not the same');
});

test('a catch-up pass looks only at objects changed from its window on, and keeps what the new release wrote since', () => {
  const since = 5000;
  assert.equal(decide(o('a', 1, 'e', 4999), undefined, since), 'old', 'missing in the destination: deleted there since, not brought back');
  assert.equal(decide(o('a', 1, 'e', 5000), undefined, since), 'copy', 'written to the source in the window');
  assert.equal(decide(o('a', 1, 'e', 6000), o('a', 2, 'f', 7000), since), 'newer', 'written in the destination after the source\'s change');
  assert.equal(decide(o('a', 1, 'e', 8000), o('a', 2, 'f', 7000), since), 'copy', 'the source changed last: it wins');
});

test('keys are paired in S3 order (UTF-8 bytes), with a page of memory each', async () => {
  // in UTF-8, U+FFFD (EF BF BD) comes before U+1F600 (F0 9F 98 80); in UTF-16 units (D83D ...) after
  assert.ok(compareKeys('\uFFFD', '\u{1F600}') < 0);
  assert.ok('\u{1F600}' < '\uFFFD', 'JavaScript\'s own order differs, which is why compareKeys exists');
  async function* gen(xs: Listed[]) { yield* xs; }
  const src = [o('a', 1, 'x', 0), o('b', 1, 'x', 0), o('d', 1, 'x', 0), o('\uFFFD', 1, 'x', 0), o('\u{1F600}', 1, 'x', 0)];
  const dst = [o('0', 1, 'y', 0), o('b', 2, 'y', 0), o('c', 1, 'y', 0), o('\u{1F600}', 3, 'y', 0), o('z\u{1F600}', 1, 'y', 0)];
  const pairs: [string, number | null][] = [];
  for await (const [s, d] of pairByKey(gen(src), gen(dst))) pairs.push([s.key, d ? d.size : null]);
  assert.deepEqual(pairs, [['a', null], ['b', 2], ['d', null], ['\uFFFD', null], ['\u{1F600}', 3]]);
});

test('the parts an object was uploaded in come from its ETag', () => {
  assert.equal(partsOf('27d95816223200ec8397a5ac4f67d675-3'), 3);
  assert.equal(partsOf('"27d95816223200ec8397a5ac4f67d675-12"'), 12);
  assert.equal(partsOf('49f68a5c8493ec2c0bf489821c21fc3b'), 0);
});

test('a tally counts what was done; objects before a catch-up window are not among those looked at', () => {
  let t = emptyTally('pics', 'app-pics', 1);
  t = { ...t, objects: 3, bytes: 30 };
  t = tallied(t, 'copy', 10);
  t = tallied(t, 'same', 10);
  t = tallied(t, 'gone', 10);
  t = tallied(t, 'old', 10);
  assert.deepEqual([t.done, t.copied, t.copiedBytes, t.same, t.gone, t.old], [3, 1, 10, 1, 1, 1]);
});
