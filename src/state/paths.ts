// Where berth keeps things under its data root. Kept free of heavy imports: every CLI
// command needs it.
import { join } from 'node:path';

export const DEFAULT_ROOT = '/data/berth';

export interface Paths {
  root: string;
  settings: string;
  stateDir: string;
  stateDb: string;
  keyFile: string;
  runDir: string;
  daemonSocket: string;
  daemonPid: string;
  /** The daemon's supervisor where berth supervises it itself (no systemd). */
  supervisorPid: string;
  caddyRunDir: string;
  caddyAdminSocket: string;
  caddyConfigDir: string;
  caddyConfigFile: string;
  caddyDataDir: string;
  logsDir: string;
  daemonLog: string;
  /** Apps' named volumes (berth.yml volumes:), one directory each: volumes/APP/NAME. */
  volumesDir: string;
  /** Static sites' files (core/static-sites), mounted read-only into the proxy at the same path. */
  staticDir: string;
  /** The shared PostgreSQL's WAL archive (pgBackRest's repository), beside the apps' backup
   *  directories under a name no app can have (app names start with a letter). */
  archiveDir: string;
}

export function rootFromEnv(flag?: string): string {
  return flag ?? process.env.BERTH_ROOT ?? DEFAULT_ROOT;
}

export function pathsFor(root: string): Paths {
  const run = join(root, 'run');
  return {
    root,
    settings: join(root, 'berth.json'),
    stateDir: join(root, 'state'),
    stateDb: join(root, 'state', 'berth.db'),
    keyFile: join(root, 'state', 'master.key'),
    runDir: run,
    daemonSocket: join(run, 'berth.sock'),
    daemonPid: join(run, 'daemon.pid'),
    supervisorPid: join(run, 'supervisor.pid'),
    caddyRunDir: join(run, 'caddy'),
    caddyAdminSocket: join(run, 'caddy', 'admin.sock'),
    caddyConfigDir: join(root, 'caddy', 'config'),
    caddyConfigFile: join(root, 'caddy', 'config', 'caddy.json'),
    caddyDataDir: join(root, 'caddy', 'data'),
    logsDir: join(root, 'logs'),
    daemonLog: join(root, 'logs', 'daemon.log'),
    volumesDir: join(root, 'volumes'),
    staticDir: join(root, 'static'),
    archiveDir: join(root, 'backups', '_pitr'),
  };
}

