// Starting the berth daemon, always supervised: a systemd unit where systemd runs, otherwise a
// small supervisor of berth's own (supervisor.ts) started in the background.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../lib/errors.js';
import { run, spawnDetached } from '../exec/run.js';
import { daemonMain } from '../daemon/build.js';
import { DaemonClient } from '../daemon/client.js';
import { DAEMON_EXIT_SUPERSEDED } from '../daemon/exit-codes.js';
import { hasSystemd, waitFor } from './engine.js';
import { cmdlineOf, runningSupervisor, supervisorArgv } from './supervisor.js';
import type { Paths, Settings } from '../state/settings.js';

/** The daemon idles nearly always: V8's lite mode (the interpreter alone, no JIT code space, less
 *  feedback kept) and a small young generation. Measured on Node 24 at rest: 58.8 MB resident
 *  with these, 59.7 with --jitless, 74 with neither. */
export const DAEMON_NODE_FLAGS = ['--lite-mode', '--max-semi-space-size=1'];


/** Fewer malloc arenas: the daemon is nearly single-threaded, extra arenas only hold memory. */
export const DAEMON_ENV = { MALLOC_ARENA_MAX: '2' };

const unitName = (s: Settings) => (s.instance === 'berth' ? 'berth' : `berth-${s.instance}`);

/** A systemd unit for the daemon (pure). */
export function systemdUnit(p: Paths, node: string, main: string): string {
  return [
    '[Unit]', 'Description=berth daemon', 'After=docker.service', 'Requires=docker.service', '',
    '[Service]', `ExecStart=${daemonArgv(p, node, main).join(' ')}`, 'Restart=always', 'RestartSec=1',
    // the daemon's "superseded" status: another daemon owns the data root, starting it again would fight that one
    `RestartPreventExitStatus=${DAEMON_EXIT_SUPERSEDED}`,
    `Environment=BERTH_ROOT=${p.root}`, ...Object.entries(DAEMON_ENV).map(([k, v]) => `Environment=${k}=${v}`), 'MemoryMax=256M', '',
    '[Install]', 'WantedBy=multi-user.target', '',
  ].join('\n');
}

/** Whether a process is the berth daemon of this data root: a pid file can outlive its process,
 *  and the number be reused by an unrelated one, which must never get our signal. */
export function isDaemonOf(pid: number, root: string): boolean {
  const argv = cmdlineOf(pid);
  return argv !== null && argv.some((a) => a.endsWith(join('daemon', 'main.js'))) && argv[argv.indexOf('--root') + 1] === root;
}

/** The daemon's own argv (pure), as systemd and the supervisor run it. */
export function daemonArgv(p: Paths, node: string, main: string): string[] {
  return [node, ...DAEMON_NODE_FLAGS, main, '--root', p.root];
}

/** A daemon process of this data root runs (it may not answer yet: its recovery runs first). */
function startingDaemon(p: Paths): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(p.daemonPid, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  return pid > 1 && isDaemonOf(pid, p.root);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; }
}

/** Stops a running daemon (its supervisor first, so it is not started again; SIGTERM, then
 *  waits); true if a daemon was running. */
export async function stopDaemon(p: Paths, s: Settings, progress: (l: string) => void, why = 'to apply new settings'): Promise<boolean> {
  const client = new DaemonClient(p.daemonSocket, 3000);
  const supervisor = hasSystemd() ? null : runningSupervisor(p.supervisorPid, p.root);
  if (supervisor) signal(supervisor, 'SIGTERM');
  if (!(await client.alive())) return false;
  progress(`stopping the berth daemon ${why}`);
  const pid = Number(readFileSync(p.daemonPid, 'utf8'));
  if (hasSystemd()) await run(['systemctl', 'stop', unitName(s)]);
  else if (pid > 1 && isDaemonOf(pid, p.root)) signal(pid, 'SIGTERM');
  if (!(await waitFor(async () => !(await client.alive()), 20_000))) throw new BerthError('unavailable', `the berth daemon (pid ${pid}) did not stop`);
  return true;
}

/** Makes a supervised daemon answer: 'running' when one already did. A daemon that answers with
 *  no supervisor (started by a berth from before supervision, or by hand) is restarted under
 *  one; the apps keep serving meanwhile. */
export async function ensureDaemon(p: Paths, s: Settings, progress: (l: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const client = new DaemonClient(p.daemonSocket, 3000);
  const supervised = () => hasSystemd() || runningSupervisor(p.supervisorPid, p.root) !== null;
  let result = 'started';
  if (await client.alive()) {
    if (supervised()) return 'running';
    await stopDaemon(p, s, progress, 'to restart it under a supervisor (it ran without one)');
    result = 'restarted under a supervisor';
  }
  const argv = daemonArgv(p, process.execPath, daemonMain());
  if (hasSystemd()) {
    progress('starting the berth daemon');
    writeFileSync(join('/etc/systemd/system', `${unitName(s)}.service`), systemdUnit(p, process.execPath, daemonMain()));
    await run(['systemctl', 'daemon-reload']);
    await run(['systemctl', 'enable', '--now', unitName(s)]);
  } else if (runningSupervisor(p.supervisorPid, p.root) !== null && startingDaemon(p)) {
    progress('the berth daemon is starting (its supervisor started it): waiting for it');
  } else {
    // a supervisor with no daemon waits out its backoff (up to 30 s) after failed starts:
    // berth up, run to fix what made them fail, starts one now
    const waiting = runningSupervisor(p.supervisorPid, p.root);
    if (waiting) signal(waiting, 'SIGTERM');
    progress('starting the berth daemon under its supervisor');
    spawnDetached(supervisorArgv(p.root, p.supervisorPid, argv), p.daemonLog, { ...env, ...DAEMON_ENV });
  }
  if (!(await waitFor(() => client.alive(), 30_000))) {
    throw new BerthError('unavailable', 'the berth daemon did not answer within 30s', `see ${hasSystemd() ? `journalctl -u ${unitName(s)}` : p.daemonLog}`);
  }
  return result;
}
