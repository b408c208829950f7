// `berth services move s3 --to garage`: a platform's bundled MinIO moves to Garage. Garage comes
// up beside MinIO (a container, data and ports of its own), each app gets its bucket and a new
// key there, the data is copied bucket by bucket (copy worker: the daemon never loads the AWS
// SDK), then the platform's store switches to Garage and every app rolls out a release that uses
// it (a normal zero-downtime deploy), and a catch-up pass copies what the old releases wrote to
// MinIO meanwhile. MinIO and its data stay until the operator removes them (removeOldStore).
// Every step is recorded first (move-state.ts): until the switch apps use MinIO as before, after
// it Garage holds all data; running the command again goes on from where it stopped.
import { asBerthError, BerthError } from '../../lib/errors.js';
import type { S3Grant } from '../../provisioning/model.js';
import type { BucketTally, CopyEvent, CopyJob, S3Access } from '../../provisioning/object-store/copy-plan.js';
import { runCopy } from '../../provisioning/object-store/run-copy.js';
import { GARAGE_REGION, SERVICE_PORTS } from '../../state/service-ports.js';
import { saveSettings } from '../../state/settings.js';
import { type Ctx, pauseIfHooked } from '../context.js';
import { deploy, type Emit } from '../deploy/engine.js';
import { retireExpired } from '../deploy/recover.js';
import {
  appsToMove, catchUpLine, catchUpSince, copyLine, dryRunRows, mb, MOVE_COMMAND, type MoveState, nextStep, NOT_PROPAGATED, REMOVE_OLD_COMMAND, stillOnOld,
} from './move-plan.js';
import { moveState, oldStorePlace, saveMoveState } from './move-state.js';
import { MINIO_ROOT_USER, newGarageRecord, newS3Key, S3_REGION } from './object-storage.js';
import { s3PublicRoute } from './public.js';
import { type ServiceRecord, serviceRecord } from './records.js';
import { appsUsing, failures, garageAccess, grantsOf, oneAtATime, setupGarage, storeGrant } from './services.js';

const READY_TIMEOUT_MS = 60_000;
const DEPLOY_LOCK_WAIT_MS = 5 * 60_000;

export interface MoveRequest { dryRun?: boolean; actor: string }

export async function moveObjectStore(ctx: Ctx, req: MoveRequest, emit: Emit) {
  if (!ctx.settings.services.includes('s3')) throw new BerthError('invalid', 'object storage is not enabled on this platform: there is nothing to move');
  const rec = ctx.store.getService('s3') ? serviceRecord(ctx, 's3') : null;
  const st = moveState(ctx);
  const next = nextStep(rec, st);
  if (next.kind === 'done') return { moved: false, note: next.note };
  if (req.dryRun) return dryRun(ctx, st, (line) => emit({ type: 'progress', line }));
  if (ctx.movingObjectStore) {
    throw new BerthError('lock_held', 'a move of object storage is already running', 'wait for it to finish (berth services shows it)');
  }
  ctx.movingObjectStore = true;
  try {
    ctx.store.audit({ actor: req.actor, action: 'services.move', result: 'started', detail: { service: 's3', to: 'garage', phase: st?.phase ?? 'new' } });
    const out = await run(ctx, st ?? saveMoveState(ctx, newMove(ctx, rec!)), req, (line) => emit({ type: 'progress', line }));
    ctx.store.audit({ actor: req.actor, action: 'services.move', result: 'succeeded', detail: { service: 's3', to: 'garage' } });
    return out;
  } catch (e) {
    ctx.store.audit({ actor: req.actor, action: 'services.move', result: 'failed', detail: { service: 's3', error: asBerthError(e).message } });
    throw e;
  } finally {
    ctx.movingObjectStore = false;
  }
}

function newMove(ctx: Ctx, old: ServiceRecord): MoveState {
  const garage = newGarageRecord(ctx);
  return { phase: 'copying', started_at: new Date().toISOString(), garage: { ...garage, slot: 'garage' }, old, grants: {}, listed_at: {} };
}

type Say = (line: string) => void;

async function run(ctx: Ctx, st: MoveState, req: MoveRequest, say: Say) {
  const minio = await oldStoreAccess(ctx, st.old, st.phase);
  const garageIp = await startGarage(ctx, st, say);
  st = moveState(ctx)!; // with the token
  let first: BucketTally[] = [];
  if (st.phase === 'copying') {
    // apps made meanwhile get their bucket and key too, until none is left without one at the switch
    for (;;) {
      const apps = movingApps(ctx).filter((a) => !st.grants[a] || !st.listed_at[st.grants[a].bucket]);
      if (apps.length) {
        st = await grantInGarage(ctx, st, apps, garageIp, say);
        say(`copying ${apps.length} bucket${apps.length === 1 ? '' : 's'} from MinIO to Garage`);
        first = [...first, ...await firstCopy(ctx, st, apps, minio, garageIp, say)];
        st = moveState(ctx)!;
      }
      await pauseIfHooked(ctx, 's3move.switch'); // tests write to MinIO here, between the copy and the switch
      const switched = await oneAtATime(ctx, async () => {
        if (movingApps(ctx).some((a) => !st.grants[a] || !st.listed_at[st.grants[a].bucket])) return null;
        return switchToGarage(ctx, st, garageIp);
      });
      if (switched) { st = switched; break; }
    }
    say('switched: the platform\'s object store is Garage now; every app rolls out a release that uses it');
  }
  const route = s3PublicRoute(ctx); // where MinIO was served at a public domain, Garage is now (again, after a crash)
  if (route) await ctx.proxy.ensureRoute(route);
  await pauseIfHooked(ctx, 's3move.rollout'); // crash tests kill the daemon here: switched, no app rolled out yet
  const { releases, failed } = await rollOut(ctx, st, req.actor, say);
  say('copying what the old releases wrote to MinIO meanwhile');
  const catchUp = await copyPass(ctx, st, movingApps(ctx).filter((a) => st.grants[a]), minio, garageIp, 'catch-up', say).catch((e) => {
    throw new BerthError('unavailable', `copying what the old releases wrote to MinIO meanwhile failed: ${asBerthError(e).message}`,
      `the platform uses Garage, MinIO keeps its data; run the same command again to copy the rest: ${MOVE_COMMAND}`, asBerthError(e).details);
  });
  if (failed.length) {
    throw new BerthError('unavailable', `object storage is on Garage now, but rolling out ${failed.map((f) => `${f.app} (${f.error})`).join(', ')} failed`,
      `those apps still serve from MinIO, which keeps running; fix the cause and run the same command again: ${MOVE_COMMAND}`,
      { releases, failed });
  }
  st = saveMoveState(ctx, { ...moveState(ctx)!, phase: 'done', done_at: new Date().toISOString() });
  const old = oldStorePlace(ctx, st);
  return {
    moved: true, from: 'minio', to: 'garage', first_copy: first, catch_up: catchUp, releases,
    not_propagated: NOT_PROPAGATED,
    old: { container: old.container, data_dir: old.dataDir, remove: REMOVE_OLD_COMMAND },
    note: `the old MinIO (${old.container}) keeps running with its data untouched in ${old.dataDir}; nothing uses it now. ` +
      `Remove it once you are satisfied: ${REMOVE_OLD_COMMAND}`,
  };
}

/** Apps with a bucket, by name. */
const movingApps = (ctx: Ctx) => appsToMove(ctx.store.listApps().map((a) => ({ name: a.name, services: ctx.store.appServices(a.name),
  grant: grantsOf(ctx, a.name).s3 })));

/** MinIO, with its root key (it reads every bucket); it must be running for any copy. */
async function oldStoreAccess(ctx: Ctx, old: ServiceRecord | null, phase: MoveState['phase']): Promise<S3Access> {
  if (!old) throw new BerthError('conflict', 'the old MinIO was removed: there is nothing left to copy from');
  const ip = await ctx.runtime.services.address('s3', old.slot);
  const name = ctx.runtime.services.logsRef('s3', old.slot).name;
  if (!ip) {
    throw new BerthError('unavailable', `MinIO (${name}) is not running: the move copies from it`,
      phase === 'copying' ? 'start it with: berth up' : `start it again with: docker start ${name}`);
  }
  return { endpoint: `http://${ip}:${SERVICE_PORTS.s3}`, region: old.region ?? S3_REGION, accessKey: old.accessKey ?? MINIO_ROOT_USER,
    secretKey: old.password };
}

/** Garage beside MinIO: its container, its layout and berth's scoped token (stored), healthy. */
async function startGarage(ctx: Ctx, st: MoveState, say: Say): Promise<string> {
  const g = st.garage;
  const { result, address } = await ctx.runtime.services.ensure({ service: 's3', slot: 'garage', image: g.image, adminPassword: g.password,
    garage: { rpcSecret: g.rpcSecret! }, apps: appsUsing(ctx, 's3') }, say);
  if (result !== 'ok') say(`Garage beside MinIO: ${result} (${ctx.runtime.services.logsRef('s3', 'garage').name})`);
  const token = await setupGarage(ctx, g, address);
  const now = token ? saveMoveState(ctx, { ...st, garage: { ...g, token } }) : st;
  if (now.phase !== 'copying') ctx.serviceAddresses.set('s3', address);
  const end = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const errs = failures(await ctx.jobs({ s3: { store: { kind: 'garage', garage: garageAccess(now.garage, address) } } }));
    if (!errs.length) return address;
    if (Date.now() > end) throw new BerthError('unavailable', `Garage beside MinIO did not become ready: ${errs.join('; ')}`, 'see: docker logs of it');
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Each app's bucket and a new key in Garage: stored before they are applied (a re-run applies the same). */
async function grantInGarage(ctx: Ctx, st: MoveState, apps: string[], ip: string, say: Say): Promise<MoveState> {
  for (const app of apps) {
    const grant: S3Grant = st.grants[app] ?? (() => {
      const key = newS3Key(app);
      return { bucket: grantsOf(ctx, app).s3!.bucket, ...key, region: GARAGE_REGION, keys: [key] };
    })();
    st = saveMoveState(ctx, { ...st, grants: { ...st.grants, [app]: grant } });
    const errs = failures(await ctx.jobs({ s3: { store: { kind: 'garage', garage: garageAccess(st.garage, ip) }, grant } }));
    if (errs.length) {
      throw new BerthError('unavailable', `making ${app}'s bucket and key in Garage failed: ${errs.join('; ')}`,
        `apps still use MinIO, nothing was switched; run the same command again: ${MOVE_COMMAND}`);
    }
    say(`app ${app}: bucket ${grant.bucket} and a new key (${grant.accessKey}) in Garage`);
  }
  return st;
}

/** The copy before the switch; each bucket's listing time is kept once its copy is complete. */
async function firstCopy(ctx: Ctx, st: MoveState, apps: string[], minio: S3Access, ip: string, say: Say): Promise<BucketTally[]> {
  try {
    return await copyPass(ctx, st, apps, minio, ip, 'first', say, (t) => {
      const now = moveState(ctx)!;
      saveMoveState(ctx, { ...now, listed_at: { ...now.listed_at, [t.bucket]: t.started } });
    });
  } catch (e) {
    throw new BerthError('unavailable', `copying failed: ${asBerthError(e).message}`,
      `apps still use MinIO, nothing was switched; run the same command again: ${MOVE_COMMAND} (what is in Garage already is skipped)`,
      asBerthError(e).details);
  }
}

/** One pass over the apps' buckets in the copy worker. `catch-up`: only what changed since the
 *  copy before the switch listed each bucket (less a margin). */
async function copyPass(ctx: Ctx, st: MoveState, apps: string[], minio: S3Access, ip: string, pass: 'first' | 'catch-up', say: Say,
  onBucket?: (t: BucketTally) => void): Promise<BucketTally[]> {
  const job: CopyJob = {
    source: minio, failAfter: ctx.hooks.copyFailAfter,
    buckets: apps.map((app) => {
      const g = st.grants[app]!;
      const dest = { endpoint: `http://${ip}:${SERVICE_PORTS.s3}`, region: g.region, accessKey: g.accessKey, secretKey: g.secretKey };
      const listed = st.listed_at[g.bucket];
      return { app, bucket: g.bucket, dest, ...(pass === 'catch-up' && listed !== undefined ? { since: catchUpSince(listed) } : {}) };
    }),
  };
  return runCopy(job, (e: CopyEvent) => {
    if (e.type !== 'progress' && e.type !== 'bucket') return;
    if (pass === 'first') say(copyLine(e.tally));
    else if (e.type === 'bucket') say(catchUpLine(e.tally));
    if (e.type === 'bucket') onBucket?.(e.tally);
  });
}

/** In one transaction: every app's grant becomes its Garage one, the platform's store Garage
 *  (where MinIO was exposed, Garage is). Run in the provisioning queue: no app gets a MinIO grant after. */
async function switchToGarage(ctx: Ctx, st: MoveState, ip: string): Promise<MoveState> {
  const old = st.old!;
  const next = ctx.store.tx(() => {
    for (const app of movingApps(ctx)) storeGrant(ctx, app, 's3', st.grants[app]);
    ctx.store.setService('s3', 'container', ctx.cipher.encryptJSON({ ...st.garage, publicDomain: old.publicDomain }));
    return saveMoveState(ctx, { ...st, phase: 'switched', switched_at: new Date().toISOString() });
  });
  ctx.serviceAddresses.set('s3', ip);
  ctx.settings.object_store = 'garage'; // the choice a new start would make now (the record decides)
  saveSettings(ctx.paths, ctx.settings);
  return next;
}

/** A release of each app whose live release still uses MinIO; the releases before it, which use
 *  MinIO too, are retired (stopped) so that none writes there any more, or serves again. */
async function rollOut(ctx: Ctx, st: MoveState, actor: string, say: Say) {
  const releases: { app: string; release: string }[] = [];
  const failed: { app: string; error: string }[] = [];
  for (const app of movingApps(ctx)) {
    const g = grantsOf(ctx, app).s3!;
    const row = ctx.store.getApp(app)!;
    const live = row.live_release ? ctx.store.getRelease(row.live_release) : undefined;
    if (!live) { say(`app ${app}: no release yet; its first deploy uses Garage`); continue; }
    if (stillOnOld(ctx.cipher.decryptJSON<Record<string, string>>(live.env), g)) {
      say(`app ${app}: rolling out a release with Garage's endpoint and its new key`);
      try {
        const r = await deploy(ctx, { app, kind: 'config', actor, note: 'moved to Garage', lockTimeoutMs: DEPLOY_LOCK_WAIT_MS }, () => undefined);
        releases.push({ app, release: r.release });
        say(`app ${app}: ${r.release} serves from Garage (${(r.ms / 1000).toFixed(1)} s)`);
      } catch (e) {
        failed.push({ app, error: asBerthError(e).message });
        say(`app ${app}: its release failed (${asBerthError(e).message}); it still serves from MinIO`);
        continue;
      }
    }
    const due = new Date().toISOString();
    for (const r of ctx.store.releasesOf(app).filter((x) => x.state === 'warm')) ctx.store.setReleaseState(r.id, 'warm', due);
  }
  await retireExpired(ctx); // stops them (each drains first) before the catch-up copy
  return { releases, failed };
}

/** What a move would copy (no container started, nothing stored): into an empty Garage, or,
 *  with a move under way, what is not there yet. */
async function dryRun(ctx: Ctx, st: MoveState | null, say: Say) {
  const minio = await oldStoreAccess(ctx, st ? st.old : serviceRecord(ctx, 's3'), st?.phase ?? 'copying');
  const ip = st ? await ctx.runtime.services.address('s3', 'garage') : null;
  const catchUp = st?.phase === 'switched';
  const job: CopyJob = {
    source: minio, dryRun: true,
    buckets: movingApps(ctx).map((app) => {
      const g = st?.grants[app];
      const dest = ip && g ? { endpoint: `http://${ip}:${SERVICE_PORTS.s3}`, region: g.region, accessKey: g.accessKey, secretKey: g.secretKey } : null;
      const listed = g ? st?.listed_at[g.bucket] : undefined;
      return { app, bucket: g?.bucket ?? grantsOf(ctx, app).s3!.bucket, dest, ...(catchUp && listed !== undefined ? { since: catchUpSince(listed) } : {}) };
    }),
  };
  say(`listing ${job.buckets.length} bucket${job.buckets.length === 1 ? '' : 's'} in MinIO${ip ? ' and Garage' : ''}`);
  const buckets = dryRunRows(await runCopy(job, () => undefined));
  const total = buckets.reduce((n, b) => n + b.bytes_to_copy, 0);
  return { dry_run: true, moved: false, from: 'minio', to: 'garage', phase: st?.phase ?? null, buckets,
    note: `would copy ${buckets.reduce((n, b) => n + b.to_copy, 0)} objects, ${mb(total)}` };
}
