import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moveText } from './move-output.js';

test('a dry run lists each bucket with what it would copy; a finished move names each release, what is not propagated, and the removal', () => {
  const dry = moveText({ moved: false, dry_run: true, note: 'would copy 3 objects, 21.0 MB', buckets: [
    { app: 'pics', bucket: 'app-pics', objects: 3, bytes: 20_971_552, to_copy: 3, bytes_to_copy: 20_971_552, skipped: 0 },
    { app: 'docs', bucket: 'app-docs', objects: 4, bytes: 60, to_copy: 2, bytes_to_copy: 30, skipped: 2 }] });
  assert.equal(dry, 'app-pics: 3 objects, 21.0 MB in MinIO; would copy 3 (21.0 MB)\napp-docs: 4 objects, 0.0 MB in MinIO; would copy 2 (0.0 MB), '
    + '2 already in Garage\nwould copy 3 objects, 21.0 MB (dry run: nothing was started or changed)');
  const done = moveText({ moved: true, note: 'remove it: berth services remove-old s3 --yes', not_propagated: 'deletes are not copied',
    releases: [{ app: 'pics', release: 'v2' }] });
  assert.equal(done, 'moved object storage to Garage\n  pics: v2 serves from Garage\ndeletes are not copied\nremove it: berth services remove-old s3 --yes');
  assert.equal(moveText({ moved: false, note: 'already moved' }), 'already moved');
});
