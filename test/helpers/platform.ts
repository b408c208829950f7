// Integration-test harness: a whole berth platform (real Docker Engine, real Caddy, the real
// daemon) under a temporary root, with its own instance prefix and ports, driven through the
// built CLI exactly as a user would.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { DAEMON_ENV, DAEMON_NODE_FLAGS, isDaemonOf } from '../../src/bootstrap/daemon-process.js';
import { sampleHash } from '../../src/bootstrap/sample.js';
import { isSupervisorOf } from '../../src/bootstrap/supervisor.js';
import { DaemonClient } from '../../src/daemon/client.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const BIN = join(REPO, 'bin', 'berth');
/** The sample image under a tag named by its source: worktrees and branches whose sample differs
 *  share one Docker Engine, and must never rebuild each other's image under one tag mid-run. */
export const SAMPLE = `berth/hello:src-${sampleHash()}`;
export const docker = new Docker({ socketPath: '/var/run/docker.sock' });

export interface Run { code: number; stdout: string; stderr: string }

let portBase = 20000 + Math.floor(Math.random() * 20000);

export class Platform {
  readonly root = mkdtempSync(join(tmpdir(), 'berth-it-'));
  readonly instance = `t${Math.random().toString(36).slice(2, 9)}`;
  readonly httpPort = portBase++;
  readonly httpsPort = portBase++;
  daemonEnv: NodeJS.ProcessEnv = {};

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...process.env, BERTH_ROOT: this.root, BERTH_ACTOR: 'tester', ...this.daemonEnv, ...extra };
  }

  berth(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<Run> {
    return new Promise((res) => {
      const child = execFile(BIN, args, { env: this.env(opts.env), timeout: opts.timeoutMs ?? 180_000, maxBuffer: 32 << 20, cwd: opts.cwd },
        (err, stdout, stderr) => res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
      child.stdin?.end(opts.input ?? '');
    });
  }

  /** Runs berth and fails the test with its output unless it exits 0. */
  async ok(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
    const r = await this.berth(args, opts);
    if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
  }

  async json<T = any>(args: string[]): Promise<T> {
    return JSON.parse((await this.ok([...args, '--json'])).stdout) as T;
  }

  /** berth up as a user runs it; `env` reaches the daemon it starts (and its supervisor's restarts). */
  async up(extra: string[] = [], env?: NodeJS.ProcessEnv): Promise<Run> {
    return this.ok(['up', '--instance', this.instance, '--http-port', String(this.httpPort), '--https-port', String(this.httpsPort),
      '--bind', '127.0.0.1', ...extra], { env });
  }

  get caRoot(): Buffer {
    return readFileSync(join(this.root, 'caddy', 'data', 'caddy', 'pki', 'authorities', 'local', 'root.crt'));
  }

  /** GET through the real proxy over HTTPS, as a browser on this host would. */
  get(host: string, path = '/', timeoutMs = 10_000): Promise<{ status: number; body: string }> {
    return httpsGet(this.httpsPort, host, path, { ca: this.caRoot, timeoutMs });
  }

  daemonPid(): number | null {
    const f = join(this.root, 'run', 'daemon.pid');
    return existsSync(f) ? Number(readFileSync(f, 'utf8')) : null;
  }

  supervisorPid(): number | null {
    const f = join(this.root, 'run', 'supervisor.pid');
    return existsSync(f) ? Number(readFileSync(f, 'utf8')) : null;
  }

  /** Every process that is a supervisor of this platform's daemon (berth up starts one). */
  supervisors(): number[] {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => isSupervisorOf(pid, this.root));
  }

  /** Signals this platform's daemon, never a process that merely reuses a stale pid's number.
   *  Its supervisor (started by berth up) goes first unless told to stay, so that a test that
   *  starts the daemon again itself (with hooks) never races a restart by the supervisor. */
  killDaemon(signal: NodeJS.Signals = 'SIGKILL', o: { supervisor?: 'stop' | 'keep' } = {}): void {
    const sup = this.supervisorPid();
    if (o.supervisor !== 'keep' && sup && isSupervisorOf(sup, this.root)) signalIfThere(sup, 'SIGKILL');
    const pid = this.daemonPid();
    if (pid && isDaemonOf(pid, this.root)) signalIfThere(pid, signal);
  }

  /** Kills the daemon (and its supervisor), then starts one with test hooks in its env (e.g.
   *  BERTH_TEST_PAUSE_AT: it pauses at that step and writes run/paused); returns once it answers. */
  async restartDaemonWith(env: NodeJS.ProcessEnv): Promise<void> {
    const alive = () => new DaemonClient(join(this.root, 'run', 'berth.sock'), 2000).alive();
    this.killDaemon('SIGKILL');
    await until(async () => !(await alive()), 10_000, 'the daemon to stop');
    rmSync(join(this.root, 'run', 'paused'), { force: true });
    this.startDaemon(env);
    await until(alive, 20_000, 'the hooked daemon');
  }

  /** Starts the daemon in the background with extra env (test hooks), like berth up would. */
  startDaemon(env: NodeJS.ProcessEnv): void {
    const child = spawn(process.execPath, [...DAEMON_NODE_FLAGS, join(REPO, 'dist', 'src', 'daemon', 'main.js'), '--root', this.root],
      { env: { ...this.env(env), ...DAEMON_ENV }, detached: true, stdio: 'ignore' });
    child.unref();
  }

  /** The env of an app's serving container, read with docker exec inside it (the sample app
   *  serves only which keys are set, never their values). Absent keys come back as null. */
  appEnv<T = any>(app: string, keys: string[]): Promise<T> {
    const script = 'const o = {}; for (const k of process.argv.slice(1)) o[k] = process.env[k] ?? null; process.stdout.write(JSON.stringify(o))';
    return new Promise((res, rej) => execFile('docker', ['exec', `${this.instance}-${app}-web`, 'node', '-e', script, ...keys], { timeout: 30_000 },
      (err, stdout, stderr) => (err ? rej(new Error(`docker exec in ${app}: ${err.message} ${stderr}`)) : res(JSON.parse(stdout) as T))));
  }

  async containers(): Promise<{ name: string; state: string; release: string; app: string }[]> {
    const cs = await docker.listContainers({ all: true, filters: { label: [`berth.instance=${this.instance}`] } });
    return cs.map((c) => ({ name: c.Names[0]!.slice(1), state: c.State, release: c.Labels['berth.release'] ?? '', app: c.Labels['berth.app'] ?? '' }));
  }

  async destroy(): Promise<void> {
    this.killDaemon('SIGKILL');
    const cs = await docker.listContainers({ all: true, filters: { label: [`berth.instance=${this.instance}`] } });
    await Promise.all(cs.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    // the platform's network and each app's own (labelled with the instance)
    const nets = await docker.listNetworks({ filters: { label: [`berth.instance=${this.instance}`] } });
    await Promise.all([this.instance, ...nets.map((n) => n.Id)].map((n) => docker.getNetwork(n).remove().catch(() => undefined)));
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Builds the sample image once per machine (berth sample build is idempotent). */
export async function ensureSample(p: Platform): Promise<void> {
  await p.ok(['sample', 'build', '--tag', SAMPLE]);
}

/** GET over HTTPS to 127.0.0.1:port for a host name (SNI and Host), trusting ca (or not checking). */
export function httpsGet(port: number, host: string, path = '/', o: { ca?: Buffer; timeoutMs?: number } = {}): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path, servername: host, headers: { host }, ...(o.ca ? { ca: o.ca } : { rejectUnauthorized: false }), timeout: o.timeoutMs ?? 10_000 }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => { body += d; });
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

/** Like httpsGet, with the answer's headers (names in lower case, repeated ones joined). */
export function httpsFetch(port: number, host: string, path = '/', o: { timeoutMs?: number } = {}):
  Promise<{ status: number; body: string; headers: Record<string, string> }> {
  return new Promise((res, rej) => {
    const opts = { host: '127.0.0.1', port, path, servername: host, headers: { host }, rejectUnauthorized: false, timeout: o.timeoutMs ?? 10_000 };
    const req = request(opts, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d: string) => { body += d; });
      const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
      r.on('end', () => res({ status: r.statusCode ?? 0, body, headers }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', rej);
    req.end();
  });
}

/** Signals a process that may have exited meanwhile; any other failure is the test's. */
function signalIfThere(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(pid, signal); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(fn: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try { const v = await fn(); if (v) return v; } catch (e) { last = e; }
    await sleep(100);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Waits until the app's containers are exactly its live and warm releases (older warm ones are
 *  stopped just after a deploy), and returns them. */
export async function settledReleases(p: Platform, app: string): Promise<string[]> {
  let last = '';
  return until(async () => {
    const releases = await p.json<{ release: string; state: string }[]>(['releases', app]);
    const wanted = releases.filter((r) => r.state === 'live' || r.state === 'warm').map((r) => r.release).sort();
    const have = (await p.containers()).filter((c) => c.app === app).map((c) => c.release).sort();
    last = `wanted ${wanted.join(',')}; containers ${have.join(',')}`;
    return JSON.stringify(wanted) === JSON.stringify(have) ? have : undefined;
  }, 15_000, `containers of ${app} to match its live and warm releases`).catch((e) => { throw new Error(`${(e as Error).message} (${last})`); });
}

/** berth up, the sample image, and these apps (NAME.localhost), deployed unless told not to. */
export async function platformWithApps(p: Platform, apps: string[], opts: { deploy?: boolean } = {}): Promise<void> {
  await p.up();
  await ensureSample(p);
  for (const app of apps) {
    await p.ok(['apps', 'create', app, '--domain', `${app}.localhost`]);
    if (opts.deploy !== false) await p.ok(['deploy', app, '--image', SAMPLE]);
  }
}
