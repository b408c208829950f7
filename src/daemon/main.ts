// The berth daemon: owns the state, serves the API on a root-only unix socket, resolves
// interrupted deploys at start, and keeps containers and routes in line with the state.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from '../lib/node-http.js';
import { join } from 'node:path';
import { desiredRoutes } from '../core/apps/routes.js';
import { type Ctx, newCtx } from '../core/context.js';
import { reconcile, recoverDeploys, retireExpired } from '../core/deploy/recover.js';
import { checkCopies } from '../core/deploy/copy-health.js';
import { BackupScheduler } from '../core/backups/scheduler.js';
import { sweepScratch } from '../core/backups/backups.js';
import { notifyPass } from '../core/notify/notify.js';
import { pushArchivePass } from '../core/backups/pitr.js';
import { sweepLeftovers } from '../core/backups/platform.js';
import { settleRestoreMoves } from '../core/backups/restore.js';
import { locateServices, reapplyRedisGrants } from '../core/shared-services/services.js';
import { settleRotations } from '../core/shared-services/rotate.js';
import { watchOoms } from '../core/apps/oom.js';
import { CronScheduler } from '../core/cron/scheduler.js';
import { asBerthError } from '../lib/errors.js';
import { createLogger, redact } from '../lib/log.js';
import { Cipher } from '../lib/secrets.js';
import { caddyBase } from '../proxy/caddy/base.js';
import { ensureLayout, loadSettings, pathsFor, rootFromEnv } from '../state/settings.js';
import { CaddyAdmin } from '../proxy/caddy/admin.js';
import { CaddyProxy } from '../proxy/caddy/proxy.js';
import type { RouteInput } from '../proxy/types.js';
import { servicesWorker } from '../provisioning/run-worker.js';
import { DockerRuntime } from '../runtime/docker/driver.js';
import { EngineApi } from '../runtime/docker/engine-api.js';
import { namesFor } from '../runtime/docker/specs.js';
import { openDb } from '../state/db.js';
import { Store } from '../state/store.js';
import { buildApi } from './api.js';
import { DAEMON_EXIT_SUPERSEDED } from './exit-codes.js';

const RECONCILE_EVERY_MS = 15_000;
const RETIRE_EVERY_MS = 5_000;
/** How often apps are looked at for copies due a health check (each at its own interval). */
const COPY_CHECK_TICK_MS = 500;

/** Whether this process is still the daemon of its data root: the pid file names it. One that a
 *  newer daemon superseded, or whose data root was removed under it, must stop acting at once:
 *  two daemons would fight over the same containers and routes. */
function stillOwner(pidFile: string): boolean {
  try { return readFileSync(pidFile, 'utf8').trim() === String(process.pid); } catch { return false; }
}

export async function startDaemon(root: string) {
  const paths = pathsFor(root);
  ensureLayout(paths);
  writeFileSync(paths.daemonPid, String(process.pid)); // claimed first: an older daemon stops at its next tick
  const settings = loadSettings(paths);
  const log = createLogger();
  const store = new Store(openDb(paths.stateDb));
  const runtime = new DockerRuntime(new EngineApi(), namesFor(settings.instance), paths);
  let routes = (): RouteInput[] => [];
  const proxy = new CaddyProxy(new CaddyAdmin(paths.caddyAdminSocket), caddyBase(settings), paths.caddyConfigFile, () => routes());
  const ctx: Ctx = newCtx({
    store, cipher: Cipher.fromKeyFile(paths.keyFile), runtime, proxy, settings, log, paths, jobs: servicesWorker(),
    boot: `${process.pid}-${randomBytes(4).toString('hex')}`,
    hooks: {
      pauseAt: process.env.BERTH_TEST_PAUSE_AT || undefined,
      copyFailAfter: process.env.BERTH_TEST_COPY_FAIL_AFTER ? Number(process.env.BERTH_TEST_COPY_FAIL_AFTER) : undefined,
      onPause: (step) => writeFileSync(join(paths.runDir, 'paused'), step),
      // BERTH_TEST_HOLD: the pause ends when the test removes the marker file
      resume: process.env.BERTH_TEST_HOLD ? async () => {
        while (existsSync(join(paths.runDir, 'paused'))) await new Promise((r) => setTimeout(r, 20));
      } : undefined,
      afterDeploy: () => setImmediate(() => {
        void retireExpired(ctx).catch((e) => log.error({ err: asBerthError(e).message }, 'retire failed'));
        void ctx.cron?.sync(); // the live release may have changed: its cron entries apply at once
      }),
    },
  });
  routes = () => desiredRoutes(ctx);

  // Caddy loads this file whenever it (re)starts: make it match this daemon's settings now.
  ctx.proxy.persist();
  await locateServices(ctx).catch((e) => log.warn({ err: asBerthError(e).message }, 'shared services not found yet'));
  const recovered = await recoverDeploys(ctx);
  if (recovered.finished.length || recovered.rolledBack.length || recovered.oneOffs.length) {
    log.warn(recovered, 'resolved deploys interrupted by the previous daemon (one-offs: release commands stopped and removed)');
  }
  // after the deploys: whether a rotation's release went live decides commit or undo
  await settleRotations(ctx).then((apps) => apps.length && log.warn({ apps }, 'settled credential rotations interrupted by the previous daemon'),
    (e) => log.error({ err: asBerthError(e).message }, 'settling interrupted rotations failed; berth apps rotate finishes them'));
  const moves = settleRestoreMoves(ctx);
  if (moves.length) log.warn({ moves }, 'settled restores interrupted by the previous daemon');

  const owner = () => {
    if (stillOwner(paths.daemonPid)) return true;
    // exit without closing the server: closing would unlink the socket path, now the new daemon's
    log.warn({ pid: process.pid }, 'another daemon owns this data root now (or it was removed): stopping');
    process.exit(DAEMON_EXIT_SUPERSEDED); // its supervisor, if any, stops too
  };
  let reconciling = false;
  const tick = async () => {
    if (reconciling || !owner()) return;
    reconciling = true;
    try { await reconcile(ctx); } catch (e) { log.error({ err: asBerthError(e).message }, 'reconcile failed; will retry'); } finally { reconciling = false; }
    await ctx.cron?.sync(); // an app deleted or changed outside a deploy
    await ctx.backups?.sync();
    // failed or stale backups told to the notification channel, once per incident and once when it clears
    await notifyPass(ctx).catch((e) => log.error({ err: asBerthError(e).message }, 'notifying failed; tried again at the next pass'));
    // the WAL archive to the targets every few minutes, in the background (a copy may take long)
    void pushArchivePass(ctx).catch((e) => log.error({ err: asBerthError(e).message }, 'copying the WAL archive off-site failed'));
  };
  await tick();
  let checking = false;
  const checkingCopies = async () => {
    if (checking || !owner()) return;
    checking = true;
    try {
      const replaced = await checkCopies(ctx);
      if (replaced.length) log.warn({ replaced }, 'replaced copies that failed their health checks');
    } catch (e) { log.error({ err: asBerthError(e).message }, 'checking the serving copies failed; will retry'); } finally { checking = false; }
  };
  // after the deploys are settled (a cron run is a container of the live release); a run the
  // previous daemon left is waited for again, a slot missed meanwhile runs once (core/cron/plan.ts)
  ctx.cron = new CronScheduler(ctx);
  await ctx.cron.start().catch((e) => log.error({ err: asBerthError(e).message }, 'starting cron failed; the next reconcile schedules the jobs'));
  // every app's backups on its policy's schedule; a backup missed while the daemon was down runs once now
  ctx.backups = new BackupScheduler(ctx);
  await ctx.backups.sync(true).catch((e) => log.error({ err: asBerthError(e).message }, 'scheduling backups failed; the next reconcile tries again'));
  void sweepLeftovers(ctx).then((gone) => gone.length && log.warn({ gone }, 'removed what a backup task cut short left'),
    (e) => log.error({ err: asBerthError(e).message }, 'sweeping what backup tasks left failed'));
  if (ctx.store.backups.any()) {
    void sweepScratch(ctx).then((gone) => gone.length && log.warn({ gone }, 'dropped scratch databases a killed verification left'),
      (e) => log.error({ err: asBerthError(e).message }, 'sweeping scratch databases failed'));
  }
  const watching = new AbortController();
  void watchOoms(ctx, watching.signal);
  const timers = [
    setInterval(() => void tick(), RECONCILE_EVERY_MS),
    setInterval(() => void checkingCopies(), COPY_CHECK_TICK_MS),
    setInterval(() => void (owner() && retireExpired(ctx).catch((e) => log.error({ err: asBerthError(e).message }, 'retire failed'))), RETIRE_EVERY_MS),
  ];

  if (existsSync(paths.daemonSocket)) rmSync(paths.daemonSocket);
  const api = buildApi(ctx);
  const server = createServer(api.handle).on('upgrade', api.handleUpgrade);
  await new Promise<void>((resolve) => server.listen(paths.daemonSocket, resolve));
  chmodSync(paths.daemonSocket, 0o600);
  log.info({ socket: paths.daemonSocket, pid: process.pid, instance: settings.instance }, 'berth daemon ready');
  // after an upgrade of berth, existing apps' Redis users get today's rules (and slot users); in
  // the background, not to delay the API (provisioning waits behind it in its queue); berth up does it too
  void reapplyRedisGrants(ctx).then((errs) => errs.length && log.error({ errs }, 'applying apps\' Redis users failed; berth up tries again'),
    (e) => log.error({ err: asBerthError(e).message }, 'applying apps\' Redis users failed; berth up tries again'));

  const stop = (signal: NodeJS.Signals) => {
    log.info({ signal, pid: process.pid }, 'berth daemon stopping'); // who stopped it is then in the log
    timers.forEach(clearInterval);
    watching.abort();
    ctx.cron?.stop(); // runs going on keep running: the next daemon waits for them
    ctx.backups?.stop();
    // closing unlinks the socket path: only while it is ours (a newer daemon may listen there)
    const owned = stillOwner(paths.daemonPid);
    if (owned) server.close();
    store.db.close();
    process.exit(owned ? 0 : DAEMON_EXIT_SUPERSEDED);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return { ctx, server };
}

const rootArg = process.argv.indexOf('--root');
startDaemon(rootFromEnv(rootArg > 0 ? process.argv[rootArg + 1] : undefined)).catch((e) => {
  process.stderr.write(`berth daemon failed to start: ${redact(asBerthError(e).message) as string}\n`);
  process.exit(1);
});
