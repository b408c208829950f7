// Starting the berth daemon: a systemd unit where systemd runs, a background process otherwise.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../lib/errors.js';
import { run, spawnDetached } from '../exec/run.js';
import { daemonMain } from '../daemon/build.js';
import { DaemonClient } from '../daemon/client.js';
import { hasSystemd, waitFor } from './engine.js';
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
    '[Service]', `ExecStart=${node} ${DAEMON_NODE_FLAGS.join(' ')} ${main} --root ${p.root}`, 'Restart=always', 'RestartSec=1',
    `Environment=BERTH_ROOT=${p.root}`, ...Object.entries(DAEMON_ENV).map(([k, v]) => `Environment=${k}=${v}`), 'MemoryMax=256M', '',
    '[Install]', 'WantedBy=multi-user.target', '',
  ].join('\n');
}

/** Whether a process is the berth daemon of this data root: a pid file can outlive its process,
 *  and the number be reused by an unrelated one, which must never get our signal. */
export function isDaemonOf(pid: number, root: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a) => a.endsWith(join('daemon', 'main.js'))) && argv[argv.indexOf('--root') + 1] === root;
  } catch {
    return false;
  }
}

/** Stops a running daemon (SIGTERM, then waits); true if one was running. */
export async function stopDaemon(p: Paths, s: Settings, progress: (l: string) => void): Promise<boolean> {
  const client = new DaemonClient(p.daemonSocket, 3000);
  if (!(await client.alive())) return false;
  progress('stopping the berth daemon to apply new settings');
  const pid = Number(readFileSync(p.daemonPid, 'utf8'));
  if (hasSystemd()) await run(['systemctl', 'stop', unitName(s)]);
  else if (pid > 1 && isDaemonOf(pid, p.root)) {
    try { process.kill(pid, 'SIGTERM'); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; }
  }
  if (!(await waitFor(async () => !(await client.alive()), 20_000))) throw new BerthError('unavailable', `the berth daemon (pid ${pid}) did not stop`);
  return true;
}

export async function ensureDaemon(p: Paths, s: Settings, progress: (l: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const client = new DaemonClient(p.daemonSocket, 3000);
  if (await client.alive()) return 'running';
  progress('starting the berth daemon');
  if (hasSystemd()) {
    writeFileSync(join('/etc/systemd/system', `${unitName(s)}.service`), systemdUnit(p, process.execPath, daemonMain()));
    await run(['systemctl', 'daemon-reload']);
    await run(['systemctl', 'enable', '--now', unitName(s)]);
  } else {
    spawnDetached([process.execPath, ...DAEMON_NODE_FLAGS, daemonMain(), '--root', p.root], p.daemonLog, { ...env, ...DAEMON_ENV });
  }
  if (!(await waitFor(() => client.alive(), 30_000))) {
    throw new BerthError('unavailable', 'the berth daemon did not answer within 30s', `see ${hasSystemd() ? `journalctl -u ${unitName(s)}` : p.daemonLog}`);
  }
  return 'started';
}
