// A newer Docker Engine beside the machine's own, for the API negotiation check: Debian sid's
// docker.io 28.5.2 (with its containerd 2.1), started with DOCKER_MIN_API_VERSION=1.44 so that it
// refuses API 1.41 as Docker 29.0 does. Its packages are fetched once with apt-get download from
// a sid source used for nothing else (never installed: unpacked with dpkg-deb -x into a cache
// dir), and it runs with its own data root, exec root, socket and network namespace, no default
// bridge and no iptables rules, so the machine's engine and its containers are left alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, which } from '../../src/exec/run.js';

/** The packages, pinned to what sid served when this was written; sid's current ones when those are gone. */
const PACKAGES: Record<string, string> = { 'docker.io': '28.5.2+dfsg4-5', containerd: '2.1.9+ds1-5', runc: '1.3.6+ds1-1', 'tini-static': '0.19.0-6+b2' };
const CACHE = process.env.BERTH_TEST_CACHE ?? '/var/cache/berth-test';
const PINNED_DIR = join(CACHE, 'docker-28.5.2');
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

const dockerdIn = (dir: string) => join(dir, 'root', 'usr', 'sbin', 'dockerd');

/** apt-get options for a private sid source: its lists and cache under `work`, the machine's untouched. */
function aptOptions(work: string): string[] {
  return ['-o', `Dir::Etc::SourceList=${join(work, 'sid.sources')}`, '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${join(work, 'lists')}`, '-o', `Dir::Cache=${join(work, 'cache')}`, '-o', 'APT::Sandbox::User=root'];
}

async function download(work: string, pinned: boolean): Promise<string[]> {
  const debs = join(work, 'debs');
  rmSync(debs, { recursive: true, force: true });
  mkdirSync(debs, { recursive: true });
  const names = Object.entries(PACKAGES).map(([p, v]) => (pinned ? `${p}=${v}` : p));
  await run(['apt-get', ...aptOptions(work), 'download', ...names], { cwd: debs, timeoutMs: 10 * 60_000 });
  return readdirSync(debs).filter((f) => f.endsWith('.deb')).map((f) => join(debs, f));
}

/** The unpacked packages (cache dir holding root/usr/sbin/dockerd), fetched on first use. */
export async function engine28Files(log: (l: string) => void = () => undefined): Promise<string> {
  if (existsSync(dockerdIn(PINNED_DIR))) return PINNED_DIR;
  if (existsSync(CACHE)) {
    const other = readdirSync(CACHE).filter((d) => d.startsWith('docker-') && existsSync(dockerdIn(join(CACHE, d)))).sort().at(-1);
    if (other) return join(CACHE, other);
  }
  if (!existsSync(KEYRING)) throw new Error(`cannot fetch Debian sid's docker.io: ${KEYRING} is missing (apt-get install debian-archive-keyring)`);
  const work = mkdtempSync(join(tmpdir(), 'berth-sid-'));
  try {
    mkdirSync(join(work, 'lists', 'partial'), { recursive: true });
    mkdirSync(join(work, 'cache', 'archives', 'partial'), { recursive: true });
    writeFileSync(join(work, 'sid.sources'),
      ['Types: deb', 'URIs: http://deb.debian.org/debian', 'Suites: sid', 'Components: main', `Signed-By: ${KEYRING}`, ''].join('\n'));
    log('fetching the package lists of Debian sid (for docker.io 28)');
    await run(['apt-get', ...aptOptions(work), 'update'], { timeoutMs: 10 * 60_000 });
    const debs = await download(work, true).catch(async (e: Error) => {
      log(`the pinned packages are gone from sid (${e.message.trim().split('\n').at(-1)}): taking sid's current ones`);
      return download(work, false);
    });
    const deb = debs.find((d) => /\/docker\.io_/.test(d));
    if (!deb) throw new Error(`apt-get download brought no docker.io package: ${debs.join(', ')}`);
    const version = (await run(['dpkg-deb', '-f', deb, 'Version'])).stdout.trim().replace(/\+.*$/, '');
    const dir = join(CACHE, `docker-${version}`);
    const partial = `${dir}.partial`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(join(partial, 'root'), { recursive: true });
    for (const d of debs) await run(['dpkg-deb', '-x', d, join(partial, 'root')]);
    writeFileSync(join(partial, 'packages.txt'), `${debs.map((d) => d.split('/').at(-1)).join('\n')}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(partial, dir);
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** sid's runc needs glibc 2.38 (Debian 12 has 2.36): the machine's runc is taken when sid's cannot run. */
async function pickRunc(files: string): Promise<string> {
  const sid = join(files, 'root', 'usr', 'sbin', 'runc');
  if (await run([sid, '--version']).then(() => true, () => false)) return sid;
  const host = which('runc');
  if (!host) throw new Error('runc: the one from sid cannot run here and this machine has none (apt-get install runc)');
  return host;
}

export interface Engine28 {
  socket: string;
  version: string;
  runc: string;
  logFile: string;
  stop(): Promise<void>;
}

async function answers(socket: string): Promise<boolean> {
  const { request } = await import('node:http');
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.end();
  });
}

/** Starts the engine on a socket of its own; stop() ends it and removes its state. */
export async function startEngine28(opts: { minApiVersion?: string; log?: (l: string) => void } = {}): Promise<Engine28> {
  const files = await engine28Files(opts.log);
  const runc = await pickRunc(files);
  const dir = mkdtempSync(join(tmpdir(), 'berth-engine28-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  // only these on PATH ahead of the machine's: not sid's runc, which may not run here
  for (const f of ['containerd', 'containerd-shim-runc-v2', 'docker-init']) symlinkSync(join(files, 'root', 'usr', 'bin', f), join(bin, f));
  symlinkSync(runc, join(bin, 'runc'));
  const socket = join(dir, 'docker.sock');
  const logFile = join(dir, 'dockerd.log');
  const fd = openSync(logFile, 'a', 0o640);
  const args = [
    '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'dockerd.pid'), '-H', `unix://${socket}`,
    '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--ip-forward=false', '--userland-proxy=false',
    '--cgroup-parent=berth-engine28', '--config-file', join(dir, 'daemon.json'),
  ];
  writeFileSync(join(dir, 'daemon.json'), '{}\n');
  const env: NodeJS.ProcessEnv = {
    PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin`,
    ...(opts.minApiVersion ? { DOCKER_MIN_API_VERSION: opts.minApiVersion } : {}),
  };
  // Its own network namespace: a dockerd without a bridge deletes the host's docker0 at start
  // (seen here), and the machine's engine must keep it. nsenter execs dockerd: the pid is its.
  const netns = `berth-e28-${Math.random().toString(36).slice(2, 8)}`;
  await run(['ip', 'netns', 'add', netns]);
  await run(['ip', 'netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
  const child: ChildProcess = spawn('nsenter', [`--net=/var/run/netns/${netns}`, dockerdIn(files), ...args], { stdio: ['ignore', fd, fd], env });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => { gone = true; });
  const stop = async () => {
    if (!gone) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!gone) child.kill('SIGKILL'); }, 30_000);
      await exited;
      clearTimeout(timer);
    }
    // a killed engine can leave its mounts behind: those under its own dir only
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${dir}/`));
    for (const m of mounts.reverse()) await run(['umount', '-l', m]).catch((e: Error) => opts.log?.(`umount ${m}: ${e.message}`));
    rmSync(dir, { recursive: true, force: true });
    await run(['ip', 'netns', 'del', netns]).catch((e: Error) => opts.log?.(`ip netns del ${netns}: ${e.message}`));
  };
  const end = Date.now() + 60_000;
  while (!(await answers(socket))) {
    if (gone || Date.now() > end) {
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
      await stop();
      throw new Error(`the Docker Engine from ${files} did not start${gone ? ' (it exited)' : ' within 60s'}:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const version = (await run([join(files, 'root', 'usr', 'sbin', 'dockerd'), '--version'])).stdout.trim();
  return { socket, version, runc, logFile, stop };
}
