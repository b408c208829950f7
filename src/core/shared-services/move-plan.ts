// Moving a platform's bundled MinIO to Garage (`berth services move s3 --to garage`), the pure
// part: what the move's state says to do next, which apps go, what a catch-up pass looks at,
// and what the operator reads. The effects are in move.ts.
import { BerthError } from '../../lib/errors.js';
import type { S3Grant } from '../../provisioning/model.js';
import type { BucketTally } from '../../provisioning/object-store/copy-plan.js';
import { bundledStore } from './object-storage.js';
import type { ServiceRecord } from './records.js';

/** What a move has done, stored (encrypted: it holds keys) before each step acts on it, so that
 *  a run cut short by a failure or a crash goes on from there when run again.
 *  copying: Garage runs beside MinIO, apps get keys there, data is copied; apps still use MinIO.
 *  switched: the platform's store is Garage, apps roll out onto it, a catch-up pass copies what
 *  old releases wrote to MinIO meanwhile. done: every app serves from Garage; MinIO is kept
 *  until `berth services remove-old s3` (then `old` is null). */
export interface MoveState {
  phase: 'copying' | 'switched' | 'done';
  started_at: string;
  /** the Garage beside MinIO (slot 'garage'): the platform's s3 record from the switch on */
  garage: ServiceRecord;
  /** the MinIO's record as it was before the move; null once removed */
  old: ServiceRecord | null;
  /** each app's bucket and new key in Garage */
  grants: Record<string, S3Grant>;
  /** per bucket: when the last complete copy before the switch began listing it (ms) */
  listed_at: Record<string, number>;
  switched_at?: string; done_at?: string; removed_at?: string;
}

export const MOVE_COMMAND = 'berth services move s3 --to garage';
export const REMOVE_OLD_COMMAND = 'berth services remove-old s3 --yes';

/** A catch-up pass looks at objects changed in MinIO from this long before the copy before the
 *  switch began listing their bucket: an upload that began before then and ended after the
 *  listing passed its key has its older time stamp. */
export const CATCH_UP_MARGIN_MS = 15 * 60_000;
export const catchUpSince = (listedAt: number) => listedAt - CATCH_UP_MARGIN_MS;

export type Next = { kind: 'start' } | { kind: 'resume'; phase: 'copying' | 'switched' } | { kind: 'done'; note: string };

/** What to do, from the platform's store and the move's state; refusals say why (pure). */
export function nextStep(rec: ServiceRecord | null, st: MoveState | null): Next {
  if (st?.phase === 'done') {
    return { kind: 'done', note: `object storage was already moved to Garage (${st.done_at ?? st.switched_at}): nothing to do` +
      (st.old ? `; the old MinIO is still there: remove it with ${REMOVE_OLD_COMMAND}` : '') };
  }
  if (st) return { kind: 'resume', phase: st.phase };
  if (!rec) {
    throw new BerthError('invalid', 'object storage has not started on this platform: there is nothing to move',
      'berth up starts it (Garage, on a new platform)');
  }
  if (rec.mode === 'external') {
    throw new BerthError('invalid', `object storage is external (${rec.endpoint}): berth runs no MinIO to move`,
      'copy the buckets with your provider\'s tools; berth services set s3 points berth at another server before apps use it');
  }
  const store = bundledStore(rec);
  if (store === 'garage') throw new BerthError('invalid', 'the bundled object store is Garage already: there is nothing to move');
  if (store !== 'minio') {
    throw new BerthError('invalid', `the bundled object store is ${store}, not MinIO: berth moves a bundled MinIO only`,
      'on a new platform, berth up starts Garage');
  }
  return { kind: 'start' };
}

/** The apps a move gives a Garage bucket and key: those with object storage (pure). */
export const appsToMove = (apps: { name: string; services: string[]; grant: S3Grant | undefined }[]) =>
  apps.filter((a) => a.services.includes('s3') && a.grant).map((a) => a.name);

/** Whether the app's live release still uses another key than its Garage one (pure). */
export const stillOnOld = (liveEnv: Record<string, string> | null, g: S3Grant) => !!liveEnv && liveEnv.S3_ACCESS_KEY !== g.accessKey;

export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const objects = (n: number) => `${n} object${n === 1 ? '' : 's'}`;

/** A line of the copy before the switch: "app pics: 120/340 objects, 14.2 MB copied (3 already in Garage)". */
export function copyLine(t: BucketTally): string {
  const notes = [t.same + t.newer ? `${t.same + t.newer} already in Garage` : '', t.gone ? `${t.gone} deleted from MinIO before it was copied` : '']
    .filter(Boolean);
  return `app ${t.app}: ${t.done}/${objects(t.objects)}, ${mb(t.copiedBytes)} copied${notes.length ? ` (${notes.join('; ')})` : ''}`;
}

/** A line of the catch-up pass after the switch. */
export function catchUpLine(t: BucketTally): string {
  const kept = t.newer ? `; ${objects(t.newer)} changed in both: Garage's (the new release's) kept` : '';
  if (!t.copied) return `app ${t.app}: nothing written to MinIO meanwhile needed copying${kept}`;
  return `app ${t.app}: ${objects(t.copied)} written to MinIO meanwhile copied (${mb(t.copiedBytes)})${kept}`;
}

export const NOT_PROPAGATED = 'objects deleted from MinIO by old releases while the move ran are not deleted in Garage: ' +
  'the copy adds and updates, it never deletes';

/** Each bucket of a dry run, as the operator reads it in --json (pure). */
export const dryRunRows = (ts: BucketTally[]) => ts.map((t) => ({
  app: t.app, bucket: t.bucket, objects: t.objects, bytes: t.bytes, to_copy: t.copied, bytes_to_copy: t.copiedBytes, skipped: t.same + t.newer,
}));

/** Said in berth up and berth services while a move is under way, or its old MinIO is kept (pure). */
export function moveWarnings(st: MoveState | null, old: { container: string; dataDir: string }): string[] {
  if (!st) return [];
  if (st.phase === 'copying') return [`a move to Garage is under way (started ${st.started_at}); apps still use MinIO: finish it with ${MOVE_COMMAND}`];
  if (st.phase === 'switched') {
    return [`a move to Garage is half done: the platform uses Garage, but some apps may still serve from MinIO: finish it with ${MOVE_COMMAND}`];
  }
  return st.old ? [`the old MinIO (${old.container}) is kept beside Garage with its data in ${old.dataDir}; nothing uses it: ` +
    `remove it with ${REMOVE_OLD_COMMAND}`] : [];
}
