// Docker Engine on the host: installed from Debian's package when missing, started with
// systemd where it runs, otherwise directly.
import { existsSync } from 'node:fs';
import { asBerthError, BerthError } from '../lib/errors.js';
import { run, spawnDetached, which } from '../exec/run.js';
import { type EngineApi, isUnreachable } from '../runtime/docker/engine-api.js';

export const hasSystemd = () => existsSync('/run/systemd/system');

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

export async function aptInstall(packages: string[], progress: (l: string) => void): Promise<void> {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  progress(`installing ${packages.join(', ')} (apt-get)`);
  await run(['apt-get', 'install', '-y', '--no-install-recommends', ...packages], { env, timeoutMs: 15 * 60_000 }).catch(async () => {
    await run(['apt-get', 'update'], { env, timeoutMs: 5 * 60_000 });
    await run(['apt-get', 'install', '-y', '--no-install-recommends', ...packages], { env, timeoutMs: 15 * 60_000 });
  });
}

export async function ensureEngine(api: EngineApi, progress: (l: string) => void, logFile: string): Promise<string> {
  // unversioned: an engine that answers but speaks no API version berth does is running all the
  // same, and gets negotiate's clear refusal rather than an attempt to install or start another
  const ping = () => api.buffer('GET', '/_ping', 'ping', { timeoutMs: 3000, unversioned: true }).then(() => true);
  // only an engine that is not there is started: one that is there but busy or failing is said,
  // never joined by a second dockerd
  const running = () => ping().catch((e: unknown) => {
    if (isUnreachable(e)) return false;
    throw new BerthError('unavailable', `Docker Engine at ${api.socketPath} is there but does not answer its ping: ${asBerthError(e).message}`,
      `look at it with: docker info${hasSystemd() ? ' (and systemctl status docker)' : ''}; berth starts no second engine beside it`);
  });
  const negotiate = async () => {
    const n = await api.negotiate();
    progress(`Docker Engine ${n.engine}: API ${n.version} (it speaks ${n.serverMin ?? '?'} to ${n.serverMax})`);
  };
  if (await running()) {
    await negotiate();
    return 'running';
  }
  if (!which('dockerd')) await aptInstall(['docker.io'], progress);
  progress('starting Docker Engine');
  if (hasSystemd()) await run(['systemctl', 'enable', '--now', 'docker']);
  else spawnDetached(['dockerd'], logFile);
  if (!(await waitFor(() => ping().catch(() => false), 60_000))) {
    throw new BerthError('unavailable', 'Docker Engine did not start within 60s', `see ${hasSystemd() ? 'journalctl -u docker' : logFile}`);
  }
  await negotiate();
  return 'started';
}

export { waitFor };
