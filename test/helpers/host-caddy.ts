// Berth's pinned Caddy (the binary of the Debian package its proxy image is built from), run
// as a host process under a temporary directory: for tests of the Caddy driver that need no
// container. Admin API on a unix socket, HTTPS on a free port, Caddy's internal CA for *.test.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/exec/run.js';
import { pinnedDeb } from '../../src/exec/debian-suite.js';
import { CADDY_DEBIAN } from '../../src/bootstrap/proxy-container.js';
import { CaddyAdmin } from '../../src/proxy/caddy/admin.js';
import { type BaseInput, fullConfig } from '../../src/proxy/caddy/config.js';
import { ROUTE_DRAIN_MS } from '../../src/state/settings.js';
import { httpsFetch, httpsGet, until } from './platform.js';

export async function caddyBinary(): Promise<string> {
  const dir = '/var/cache/berth/caddy-bin';
  const bin = join(dir, CADDY_DEBIAN.version, 'usr', 'bin', 'caddy');
  if (!existsSync(bin)) {
    const deb = await pinnedDeb(CADDY_DEBIAN.pkg, CADDY_DEBIAN.version, CADDY_DEBIAN.suite, () => undefined);
    mkdirSync(join(dir, CADDY_DEBIAN.version), { recursive: true });
    await run(['dpkg-deb', '-x', deb, join(dir, CADDY_DEBIAN.version)]);
  }
  return bin;
}

/** Counts the admin API writes that succeeded: each one is a config change in Caddy. */
export class CountingAdmin extends CaddyAdmin {
  writes = 0;
  override async call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const r = await super.call<T>(method, path, body);
    if (method !== 'GET' && r.status < 300) this.writes++;
    return r;
  }
}

// below Linux's ephemeral range (32768-60999), where a load test's client sockets could hold a port
let nextPort = 20000 + Math.floor(Math.random() * 10000);

export class HostCaddy {
  readonly dir = mkdtempSync(join(tmpdir(), 'berth-caddy-'));
  readonly base: BaseInput = {
    adminSocket: join(this.dir, 'admin.sock'), httpPort: nextPort++, httpsPort: nextPort++, refreshMs: 25, streamCloseDelayMs: 8 * 3600_000,
    drainMs: ROUTE_DRAIN_MS,
  };
  readonly configFile = join(this.dir, 'caddy.json');
  readonly admin = new CountingAdmin(this.base.adminSocket);
  private child: ChildProcess | null = null;

  /** Starts Caddy; one that exits before its admin API answers (a port taken meanwhile) is said
   *  with its last output, and tried again on the next ports when the config is still the first one. */
  async start(): Promise<void> {
    const fresh = !existsSync(this.configFile);
    for (let attempt = 1; ; attempt++) {
      if (fresh) writeFileSync(this.configFile, JSON.stringify(fullConfig(this.base, [])));
      const child = spawn(await caddyBinary(), ['run', '--config', this.configFile], {
        env: { ...process.env, XDG_DATA_HOME: join(this.dir, 'data'), XDG_CONFIG_HOME: join(this.dir, 'config') }, stdio: ['ignore', 'ignore', 'pipe'],
      });
      this.child = child;
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-2000); });
      const exited = () => child.exitCode !== null || child.signalCode !== null;
      // 'exited' ends the wait at once (until retries what throws)
      const r = await until(async () => (exited() ? 'exited' : this.admin.call('GET', '/config/').then((x) => x.status === 200 && 'up', () => false)),
        30_000, 'caddy to start');
      if (r === 'up') return;
      const why = `caddy exited (${child.exitCode ?? child.signalCode}) before its admin API answered: ${stderr}`;
      if (!fresh || attempt === 3) throw new Error(why);
      process.stderr.write(`# ${why}; trying the next ports\n`);
      this.base.httpPort = nextPort++;
      this.base.httpsPort = nextPort++;
    }
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((res) => { c.once('exit', () => res()); c.kill('SIGKILL'); });
  }

  get caRoot(): string { return join(this.dir, 'data', 'caddy', 'pki', 'authorities', 'local', 'root.crt'); }

  /** GET / for host over HTTPS through this Caddy; status 0 when no TLS connection could be made
   *  (a host with no route has no certificate), after retrying while a new one is issued. */
  async request(host: string): Promise<{ status: number; body: string }> {
    const end = Date.now() + 3000;
    for (;;) {
      try {
        return await httpsGet(this.base.httpsPort, host);
      } catch (e) {
        if (Date.now() > end) return { status: 0, body: String(e) };
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** GET uri for host over HTTPS through this Caddy, with the answer's headers; retried like request. */
  async fetch(host: string, uri: string): Promise<{ status: number; body: string; headers: Record<string, string> }> {
    const end = Date.now() + 3000;
    for (;;) {
      try {
        return await httpsFetch(this.base.httpsPort, host, uri);
      } catch (e) {
        if (Date.now() > end) return { status: 0, body: String(e), headers: {} };
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
