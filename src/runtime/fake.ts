// An in-memory runtime for unit tests of the engine and recovery: containers, images and the
// serving name as data, every operation able to fail or to hang on request. It passes the same
// contract suite as the Docker driver (contract.ts), so what the engine's unit tests assume of
// it holds for Docker too.
//
// Commands follow a tiny protocol instead of running programs: ['exit', CODE, TEXT] ends with
// CODE and prints TEXT; ['sleep', MS] runs that long and exits 0; ['talk', TEXT, MS, TEXT2, CODE]
// prints TEXT, MS later TEXT2, and ends with CODE; a unit's ['hog'] passes its memory limit at
// once, and ['stubborn'] prints "ready" and ignores SIGTERM (a stop kills it after the grace).
// A unit (start) with any other command, or none, runs until stopped, as a server does; a one-off
// with another command is "not found".
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { duplexPair } from 'node:stream';
import { FakeBuilder } from './build/fake.js';
import { BerthError } from '../lib/errors.js';
import { loginFailure } from './pull-failure.js';
import { frame, STDOUT } from '../lib/frames.js';
import type { ServiceName } from '../state/settings.js';
import { SERVICE_PORTS } from '../state/service-ports.js';
import type {
  ExportedDir,
  IsolationReport,
  RedisMemory,
  Attached, AttachOptions, HealthCheck, ImageInfo, OneOffKind, OneOffOptions, OneOffRef, ProcessSpec, ProcessType, Progress, PullCheck,
  OomEvent, RegistryAuth, RunOptions, Runtime,
  ServiceRun, ServiceRuntime, ServiceSlot, ServiceState, TaskImage, TaskSpec, Unit, WaitOptions,
} from './types.js';
import { type AppNetwork, appNetworkOf, TASK_OUTPUT_DIR, TASK_SECRETS_DIR } from './types.js';

/** A one-off of `berth run` or cron: it runs on its own until waited for and removed. */
interface FakeOneOff extends OneOffRef {
  spec: ProcessSpec; cmd: string[]; output: string; exitCode: number | null;
  listeners: Set<(s: string) => void>; exited: Promise<number>; kill: () => void;
}

/** `promoted`: a worker activated (it would restart on failure). `output`: what its command
 *  printed; `followers` hear each chunk of it, and null when it exits. */
interface FakeUnit extends Unit {
  spec: ProcessSpec; promoted?: boolean; output: string; followers: Set<(chunk: string | null) => void>; timers: NodeJS.Timeout[];
  ignoresTerm?: boolean;
}

/** `start.PROCESS`: the start of that process only (a worker's, not web's before it). */
type Op = 'ensureImage' | 'start' | `start.${string}` | 'probe' | 'activate.park' | 'activate.name' | 'runOnce' | 'stop' | 'remove' | 'list' | 'exportDir';

/** `killed`: the one-off was removed under a daemon that died waiting for it; for that daemon
 *  nothing ever comes back, so the wait never settles (and holds no timer). */
const sleep = (ms: number, signal?: AbortSignal, killed?: AbortSignal) => new Promise<void>((res, rej) => {
  const t = setTimeout(res, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); rej(new BerthError('aborted', 'cancelled')); }, { once: true });
  killed?.addEventListener('abort', () => clearTimeout(t), { once: true });
});

/** The last `n` lines of an output (each ending in a newline). */
const lastLines = (output: string, n: number) => (n > 0 ? output.split(/(?<=\n)/).slice(-n).join('') : '');

export class FakeRuntime implements Runtime {
  /** Local images by reference and by id. */
  readonly images = new Map<string, ImageInfo>();
  /** What a registry would give for a reference that is not local; absent: the pull fails. */
  readonly registry = new Map<string, ImageInfo>();
  /** Why pulls of references the registry lacks fail. */
  pullFailure: { reason: 'offline' | 'not_found'; message: string } = { reason: 'offline', message: 'dial tcp: lookup registry: no such host' };
  readonly units = new Map<string, FakeUnit>();
  /** One-off commands running now, by container name. */
  readonly oneOffs = new Map<string, { app: string; release: string; kill: () => void }>();
  /** One-offs of `berth run` and cron, by id. */
  readonly started = new Map<string, FakeOneOff>();
  /** Every operation, in order (assertions on what the engine did). */
  readonly calls: string[] = [];
  /** The health answer of a unit; 200 unless a test says otherwise. */
  health: (u: Unit) => number | string = () => 200;
  readonly services: FakeServices;
  readonly builder = new FakeBuilder((ref) => this.addImage(ref));
  private readonly failures = new Map<Op, Error[]>();
  private readonly holds = new Map<Op, Promise<void>>();
  private seq = 0;

  /** servicesRoot: where the shared services keep their data (none: they keep none). */
  constructor(readonly instance = 'fake', servicesRoot?: string) { this.services = new FakeServices(servicesRoot, this.appNetworks); }

  /** The next call of op fails with this error. */
  failNext(op: Op, message = `${op} failed (test)`): void {
    this.failures.set(op, [...(this.failures.get(op) ?? []), new BerthError('unavailable', message)]);
  }

  /** Calls of op wait until the returned function is called (or their signal aborts). */
  hold(op: Op): () => void {
    let release!: () => void;
    this.holds.set(op, new Promise<void>((r) => { release = r; }));
    return () => { this.holds.delete(op); release(); };
  }

  private async op(op: Op, signal?: AbortSignal): Promise<void> {
    this.calls.push(op);
    const held = this.holds.get(op);
    if (held) {
      await new Promise<void>((res, rej) => {
        void held.then(res);
        signal?.addEventListener('abort', () => rej(new BerthError('aborted', `${op} cancelled`)), { once: true });
      });
    }
    if (signal?.aborted) throw new BerthError('aborted', `${op} cancelled`);
    this.failIfAsked(op);
  }

  private failIfAsked(op: Op): void {
    const f = this.failures.get(op)?.shift();
    if (f) throw f;
  }

  /** Files of images (by reference and id), for exportDir: path in the image -> content, or a symlink. */
  readonly imageFiles = new Map<string, Record<string, string | { symlink: string }>>();

  addImage(ref: string, id = `sha256:${(++this.seq).toString(16).padStart(64, '0')}`, files: Record<string, string | { symlink: string }> = {}): ImageInfo {
    this.imageFiles.set(ref, files);
    this.imageFiles.set(id, files);
    const info = { id, digest: null };
    this.images.set(ref, info);
    this.images.set(id, info);
    return info;
  }

  /** The unit crashes: with restarting, the way a restart policy keeps bringing it back. */
  crash(u: Pick<Unit, 'id'>, restarting = false): void {
    this.exited(this.units.get(u.id)!, { restarting, exitCode: 1 });
  }

  /** Its process is gone (an exit, a kill, a stop): its log stream ends with it. */
  private exited(x: FakeUnit, how: Partial<Unit>): void {
    Object.assign(x, { running: false, restarting: false, ...how });
    x.timers.forEach(clearTimeout);
    for (const f of x.followers) f(null);
  }

  private print(x: FakeUnit, text: string): void {
    x.output += `${text}\n`;
    for (const f of x.followers) f(`${text}\n`);
  }

  /** A unit's command, in the protocol above. */
  private runUnit(x: FakeUnit, cmd: string[] = []): void {
    const later = (ms: number, f: () => void) => x.timers.push(setTimeout(f, ms));
    if (cmd[0] === 'exit') {
      if (cmd.length > 2) this.print(x, cmd.slice(2).join(' '));
      this.exited(x, { exitCode: Number(cmd[1]) });
    } else if (cmd[0] === 'talk') {
      this.print(x, cmd[1]!);
      later(Number(cmd[2]), () => { this.print(x, cmd[3]!); this.exited(x, { exitCode: Number(cmd[4]) }); });
    } else if (cmd[0] === 'sleep') later(Number(cmd[1]), () => this.exited(x, { exitCode: 0 }));
    else if (cmd[0] === 'hog') later(10, () => this.oom(x));
    else if (cmd[0] === 'stubborn') {
      x.ignoresTerm = true;
      this.print(x, 'ready');
    }
  }

  servingName(app: string, process: ProcessType, replica = 1): string { return `${this.instance}-${app}-${process}${replica > 1 ? `_${replica}` : ''}`; }
  private parkedName(s: { app: string; process: string; release: string; replica?: number }) {
    return `${this.instance}-${s.app}-${s.process}-${s.release}${(s.replica ?? 1) > 1 ? `-${s.replica}` : ''}`;
  }

  async ping() { return { engine: 'fake' }; }
  /** Registries that answer, by address, with the one login each takes; any other is offline. */
  readonly registryLogins = new Map<string, { username: string; password: string }>();
  async checkAuth(auth: RegistryAuth) {
    const login = this.registryLogins.get(auth.serveraddress);
    if (!login) {
      throw loginFailure(auth.serveraddress, 'offline', `Get "http://${auth.serveraddress}/v2/": dial tcp: connect: connection refused`);
    }
    if (login.username !== auth.username || login.password !== auth.password) {
      throw loginFailure(auth.serveraddress, 'unauthorized', `login attempt to http://${auth.serveraddress}/v2/ failed with status: 401 Unauthorized`);
    }
  }
  async ensureNetwork() { /* the platform network, always there */ }

  /** Apps that have a network of their own (a unit is always on its app's), and the shared services on each. */
  readonly appNetworks = new Map<string, Set<ServiceName>>();

  async isolate(apps: AppNetwork[]): Promise<IsolationReport> {
    const created = apps.filter((a) => !this.appNetworks.has(a.app)).map((a) => a.app);
    const wanted = apps.map((a) => a.app);
    const removed = [...this.appNetworks.keys()].filter((a) => !wanted.includes(a) && ![...this.units.values()].some((u) => u.app === a));
    for (const a of apps) this.appNetworks.set(a.app, new Set(a.services)); // exactly those it uses
    removed.forEach((a) => this.appNetworks.delete(a));
    return { created, stranded: [], removed };
  }

  async ensureAppNetwork(n: AppNetwork) {
    const on = this.appNetworks.get(n.app) ?? new Set<ServiceName>();
    for (const s of n.services) on.add(s);
    this.appNetworks.set(n.app, on);
  }

  async removeAppNetwork(app: string) { this.appNetworks.delete(app); }

  private readonly oomWatchers = new Set<(u: OomEvent) => void>();

  async watchOom(onOom: (u: OomEvent) => void, signal: AbortSignal): Promise<void> {
    this.oomWatchers.add(onOom);
    await new Promise<void>((res) => signal.addEventListener('abort', () => res(), { once: true }));
    this.oomWatchers.delete(onOom);
  }

  /** The unit passes its memory limit: it exits, said so, and watchers hear of it. */
  oom(u: Pick<Unit, 'id'>): void {
    const x = this.units.get(u.id)!;
    this.exited(x, { exitCode: 137, oomKilled: true });
    for (const w of this.oomWatchers) w({ app: x.app, release: x.release, process: x.process, name: x.name, oneOff: false });
  }

  async imageInfo(ref: string): Promise<ImageInfo | null> { return this.images.get(ref) ?? null; }

  async ensureImage(ref: string, _auth: RegistryAuth | undefined, progress: Progress, signal?: AbortSignal): Promise<ImageInfo> {
    const have = this.images.get(ref);
    if (have) return have;
    progress(`pulling ${ref}`);
    await this.op('ensureImage', signal);
    const got = this.registry.get(ref);
    if (!got) {
      throw new BerthError(this.pullFailure.reason === 'not_found' ? 'not_found' : 'unavailable',
        `cannot pull ${ref} (${this.pullFailure.reason}): ${this.pullFailure.message}`, undefined, { reason: this.pullFailure.reason });
    }
    this.images.set(ref, got);
    this.images.set(got.id, got);
    return got;
  }

  async pullable(ref: string): Promise<PullCheck> {
    if (this.images.has(ref) || this.registry.has(ref)) return { ok: true };
    return { ok: false, ...this.pullFailure };
  }

  private view(u: FakeUnit): Unit {
    const { spec: _spec, promoted: _promoted, output: _output, followers: _followers, timers: _timers, ignoresTerm: _term, ...unit } = u;
    return { ...unit, ...(u.running || u.exitCode === null ? {} : { oomKilled: !!u.oomKilled }) };
  }

  async start(spec: ProcessSpec): Promise<Unit> {
    await this.op('start');
    this.failIfAsked(`start.${spec.process}`);
    if (!this.images.has(spec.image)) throw new BerthError('not_found', `no such image: ${spec.image}`);
    await this.ensureAppNetwork(appNetworkOf(spec));
    const name = this.parkedName(spec);
    for (const [id, u] of this.units) if (u.name === name) { this.exited(u, {}); this.units.delete(id); } // a leftover of an interrupted attempt
    const u: FakeUnit = {
      id: `c${++this.seq}`, name, app: spec.app, release: spec.release, process: spec.process, replica: spec.replica ?? 1,
      running: true, restarting: false, exitCode: null, attached: true, serving: false, serves: spec.process === 'web' || !!spec.serves,
      spec: { ...spec, env: { ...spec.env } }, output: '', followers: new Set(), timers: [],
    };
    this.units.set(u.id, u);
    this.runUnit(u, spec.cmd);
    return this.view(u);
  }

  async probe(unit: Unit, _check: HealthCheck): Promise<number | string> {
    await this.op('probe');
    const u = this.units.get(unit.id);
    if (!u?.running) return 'ECONNREFUSED';
    return this.health(this.view(u));
  }

  async activate(unit: Unit, between?: () => Promise<void>): Promise<void> {
    const serving = this.servingName(unit.app, unit.process, unit.replica);
    const target = this.units.get(unit.id);
    if (!target) throw new BerthError('not_found', `no such container: ${unit.name}`);
    if (!target.serves) {
      await this.op('activate.name');
      target.promoted = true;
      return;
    }
    if (target.name === serving) return;
    const current = [...this.units.values()].find((u) => u.name === serving);
    let parked: FakeUnit | null = null;
    if (current) {
      await this.op('activate.park');
      if (!current.running) Object.assign(current, { restarting: false }); // stopped for good, as Docker's driver does
      const parkedAs = this.parkedName(current) === target.name ? `${target.name}-replaced` : this.parkedName(current);
      // as Docker's driver removes it
      for (const [id, u] of this.units) if (u !== current && u.name === parkedAs) { this.exited(u, {}); this.units.delete(id); }
      current.name = parkedAs;
      current.serving = false;
      parked = current;
    }
    try {
      await between?.();
      await this.op('activate.name');
      if (!this.units.has(target.id)) throw new BerthError('not_found', `no such container: ${target.name}`);
    } catch (e) {
      if (parked) Object.assign(parked, { name: serving, serving: true }); // all or nothing
      throw e;
    }
    Object.assign(target, { name: serving, serving: true });
    Object.assign(unit, { name: serving, serving: true });
  }

  async runOnce(spec: ProcessSpec, cmd: string[], opts: RunOptions): Promise<{ exitCode: number; output: string }> {
    await this.op('runOnce', opts.signal);
    if (!this.images.has(spec.image)) throw new BerthError('not_found', `no such image: ${spec.image}`);
    if (cmd[0] === 'sleep') {
      const ms = Number(cmd[1]);
      const name = `${this.instance}-${spec.app}-run-${spec.release}-${++this.seq}`;
      const killed = new AbortController();
      this.oneOffs.set(name, { app: spec.app, release: spec.release, kill: () => killed.abort() });
      try {
        if (ms > opts.timeoutMs) {
          await sleep(opts.timeoutMs, opts.signal, killed.signal);
          throw new BerthError('timeout', `one-off command did not finish within ${Math.round(opts.timeoutMs / 1000)}s`);
        }
        await sleep(ms, opts.signal, killed.signal);
        return { exitCode: 0, output: '' };
      } finally {
        this.oneOffs.delete(name);
      }
    }
    if (cmd[0] === 'exit') return { exitCode: Number(cmd[1]), output: cmd.slice(2).join(' ') + (cmd.length > 2 ? '\n' : '') };
    return { exitCode: 127, output: `${cmd[0]}: not found\n` };
  }

  async removeOneOffs(): Promise<string[]> {
    const names = [...this.oneOffs.keys()];
    for (const o of this.oneOffs.values()) o.kill();
    this.oneOffs.clear();
    for (const o of [...this.started.values()].filter((x) => x.kind === 'run')) {
      o.kill();
      this.started.delete(o.id);
      names.push(o.name);
    }
    return names;
  }

  async startOneOff(spec: ProcessSpec, cmd: string[], o: OneOffOptions): Promise<OneOffRef> {
    return this.oneOffView(await this.spawnOneOff(spec, cmd, o));
  }

  /** `cat` copies its stdin to its output and exits 0 when the stdin ends (^D on a terminal); output comes back
   *  raw with a terminal, else in stdout frames, as from Docker. */
  async startAttached(spec: ProcessSpec, cmd: string[], o: OneOffOptions & AttachOptions): Promise<Attached> {
    const [ours, io] = duplexPair();
    const x = await this.spawnOneOff(spec, cmd, o, (say, end) => {
      // a terminal takes ^D for the end of input
      ours.on('data', (d: Buffer) => (o.tty && d.includes(4) ? end(0) : say(d.toString('utf8'), '')));
      ours.on('end', () => end(0));
    });
    x.listeners.add((s) => ours.write(o.tty ? s : frame(STDOUT, s)));
    void x.exited.then(() => ours.end());
    return { ref: this.oneOffView(x), io, resize: async () => undefined };
  }

  private async spawnOneOff(spec: ProcessSpec, cmd: string[], o: OneOffOptions,
    cat?: (say: (text: string, eol?: string) => void, end: (code: number) => void) => void): Promise<FakeOneOff> {
    await this.op('runOnce');
    if (!this.images.has(spec.image)) throw new BerthError('not_found', `no such image: ${spec.image}`);
    const n = ++this.seq;
    const name = o.kind === 'cron' ? `${this.instance}-${spec.app}-cron-${o.key}` : `${this.instance}-${spec.app}-run-${spec.release}-${n}`;
    let exit!: (code: number) => void;
    const exited = new Promise<number>((r) => { exit = r; });
    const timers: NodeJS.Timeout[] = [];
    const x: FakeOneOff = {
      id: `o${n}`, name, app: spec.app, kind: o.kind, key: o.key, running: true, spec, cmd, output: '', exitCode: null, listeners: new Set(), exited,
      kill: () => { timers.forEach(clearTimeout); end(137); },
    };
    const say = (text: string, eol = '\n') => {
      const line = `${text}${eol}`;
      x.output += line;
      for (const l of x.listeners) l(line);
    };
    const end = (code: number) => {
      if (!x.running) return;
      Object.assign(x, { running: false, exitCode: code });
      exit(code);
    };
    if (cmd[0] === 'exit') {
      if (cmd.length > 2) say(cmd.slice(2).join(' '));
      end(Number(cmd[1]));
    } else if (cmd[0] === 'sleep') {
      timers.push(setTimeout(() => end(0), Number(cmd[1])));
    } else if (cmd[0] === 'talk') {
      say(cmd[1]!);
      timers.push(setTimeout(() => { say(cmd[3]!); end(Number(cmd[4])); }, Number(cmd[2])));
    } else if (cmd[0] === 'cat' && cat) {
      cat(say, end);
    } else {
      say(`${cmd[0]}: not found`);
      end(127);
    }
    this.started.set(x.id, x);
    return x;
  }

  private oneOffView(x: FakeOneOff): OneOffRef {
    return { id: x.id, name: x.name, app: x.app, kind: x.kind, key: x.key, running: x.running };
  }

  async waitOneOff(ref: Pick<OneOffRef, 'id' | 'name'>, opts: WaitOptions): Promise<{ exitCode: number; output: string }> {
    const x = this.started.get(ref.id);
    if (!x) throw new BerthError('not_found', `docker: wait ${ref.name}: no such container`);
    if (x.output) opts.onOutput?.(x.output);
    const listener = (s: string) => opts.onOutput?.(s);
    x.listeners.add(listener);
    let timer: NodeJS.Timeout | undefined;
    try {
      const stopped = new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new BerthError('timeout', `${x.name} did not finish within ${Math.round(opts.timeoutMs / 1000)}s; it was stopped`)),
          opts.timeoutMs);
        opts.signal?.addEventListener('abort', () => rej(new BerthError('aborted', `docker: wait ${x.name} was cancelled`)), { once: true });
        if (opts.signal?.aborted) rej(new BerthError('aborted', `docker: wait ${x.name} was cancelled`));
      });
      const exitCode = await Promise.race([x.exited, stopped]);
      return { exitCode, output: x.output };
    } finally {
      clearTimeout(timer);
      x.listeners.delete(listener);
      x.kill();
      this.started.delete(x.id);
    }
  }

  async listOneOffs(kind: OneOffKind): Promise<OneOffRef[]> {
    return [...this.started.values()].filter((x) => x.kind === kind).map((x) => this.oneOffView(x));
  }

  async inspect(app: string, process: ProcessType, release: string): Promise<Unit | null> {
    return (await this.list(app)).find((u) => u.process === process && u.release === release && u.replica === 1) ?? null;
  }

  async list(app?: string): Promise<Unit[]> {
    await this.op('list');
    return [...this.units.values()].filter((u) => !app || u.app === app).map((u) => this.view(u));
  }

  /** SIGTERM (an init passes it on: the process ends, 143), or after the grace, SIGKILL (137). */
  async stop(unit: Unit, graceMs: number): Promise<void> {
    await this.op('stop');
    const u = this.units.get(unit.id);
    if (u?.running && u.ignoresTerm) await sleep(graceMs);
    if (u?.running) this.exited(u, { exitCode: u.ignoresTerm ? 137 : 143 });
    else if (u) u.restarting = false; // a stop ends a restart policy's loop too
  }

  async remove(unit: Unit): Promise<void> {
    await this.op('remove');
    const u = this.units.get(unit.id);
    if (u?.running) this.exited(u, { exitCode: 137 });
    this.units.delete(unit.id);
  }

  /** A unit's or one-off's last `tail` lines; a service container's, a line naming it. */
  async logs(unit: Pick<Unit, 'id' | 'name'>, tail: number): Promise<string> {
    const output = this.units.get(unit.id)?.output ?? this.started.get(unit.id)?.output;
    return output === undefined ? `${unit.name}: (fake log)\n` : lastLines(output, tail);
  }

  /** Its last `tail` lines, then each chunk as it is printed, until it exits or the signal aborts
   *  (a service container's: the line logs gives). */
  async followLogs(unit: Pick<Unit, 'id' | 'name'>, tail: number, onChunk: (s: string) => void, signal: AbortSignal): Promise<void> {
    const u = this.units.get(unit.id);
    if (!u) return onChunk(await this.logs(unit, tail));
    const before = lastLines(u.output, tail);
    if (before) onChunk(before);
    if (!u.running || signal.aborted) return;
    await new Promise<void>((res) => {
      const follower = (chunk: string | null) => (chunk === null ? done() : onChunk(chunk));
      const done = () => { u.followers.delete(follower); signal.removeEventListener('abort', done); res(); };
      u.followers.add(follower);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  async exportDir(image: string, path: string, dest: string): Promise<ExportedDir> {
    await this.op('exportDir');
    const files = this.imageFiles.get(image);
    if (!this.images.has(image) || !files) throw new BerthError('not_found', `no such image: ${image}`);
    const under = Object.entries(files).filter(([p]) => p.startsWith(`${path}/`));
    if (!under.length) throw new BerthError('not_found', `${path} of ${image}: no such directory in the image`);
    const out: ExportedDir = { files: 0, bytes: 0, skipped: [] };
    const root = resolve(dest);
    mkdirSync(root, { recursive: true });
    for (const [p, body] of under) {
      const rel = p.slice(path.length + 1);
      const at = join(root, rel);
      mkdirSync(dirname(at), { recursive: true });
      if (typeof body === 'string') {
        writeFileSync(at, body);
        out.files++;
        out.bytes += Buffer.byteLength(body);
      } else if (resolve(dirname(at), body.symlink).startsWith(root + sep)) {
        rmSync(at, { force: true });
        symlinkSync(body.symlink, at);
      } else out.skipped.push(`${rel} -> ${body.symlink} (points outside the directory)`);
    }
    return out;
  }

  /** an image "saved": a file naming it */
  async saveImage(ref: string, file: string): Promise<void> {
    if (!this.images.has(ref)) throw new BerthError('not_found', `no image ${ref}`);
    writeFileSync(file, `fake image ${ref}\n`, { mode: 0o600 });
  }

  async removeImage(id: string): Promise<void> {
    for (const [k, v] of this.images) if (v.id === id) this.images.delete(k);
  }
}

/** The shared services as data: each "runs" once ensured, at an address of its own (a slot beside
 *  the usual place, e.g. `s3-garage`, is a service of its own here). With a root, each has a data
 *  directory under it (made by ensure, kept by remove, gone with purge), as on Docker. */
export class FakeServices implements ServiceRuntime {
  readonly running = new Map<string, ServiceRun>();
  /** Services whose container exists but does not run (`stop`). */
  readonly stopped = new Set<string>();
  readonly tasks: { service: TaskImage; name: string; cmd: string[]; env: Record<string, string>; secretFiles: Record<string, string> }[] = [];
  /** What a task whose command is not of the protocol (fake.ts's head) ends with. */
  taskResult: { exitCode: number; output: string } = { exitCode: 0, output: '' };

  /** root: where data directories go; networks: the runtime's app networks, which a container made anew leaves. */
  constructor(private readonly root?: string, private readonly networks = new Map<string, Set<ServiceName>>()) {}

  private key(s: ServiceName, slot?: ServiceSlot) { return slot ? `${s}-${slot}` : s; }
  private ip(key: string) { return `10.0.0.${['postgres', 'redis', 's3', 's3-garage'].indexOf(key) + 2}`; }
  endpoint(s: ServiceName, slot?: ServiceSlot) { return { host: `fake-${this.key(s, slot)}`, port: SERVICE_PORTS[s] }; }
  async ensure(run: ServiceRun, progress: Progress = () => undefined) {
    const key = this.key(run.service, run.slot);
    const had = this.running.get(key);
    const drifted = had !== undefined && JSON.stringify(had) !== JSON.stringify(run);
    if (drifted) progress(`${run.service}: its container spec changed: replacing fake-${key}; data is kept`);
    const result = !had ? 'created' : drifted ? 'recreated' : this.stopped.has(key) ? 'started' : 'ok';
    if (result === 'created' || result === 'recreated') {
      // a new container is on no app's network but its apps'
      for (const [app, on] of this.networks) on[run.apps?.includes(app) ? 'add' : 'delete'](run.service);
    }
    this.running.set(key, run);
    this.stopped.delete(key);
    if (this.root) mkdirSync(this.dataDir(run.service, run.slot), { recursive: true });
    return { result, address: this.ip(key) };
  }
  /** Its process ends, its container stays (as `docker stop`). */
  stop(s: ServiceName, slot?: ServiceSlot) { if (this.running.has(this.key(s, slot))) this.stopped.add(this.key(s, slot)); }
  private up(key: string) { return this.running.has(key) && !this.stopped.has(key); }
  async address(s: ServiceName, slot?: ServiceSlot) { return this.up(this.key(s, slot)) ? this.ip(this.key(s, slot)) : null; }
  async state(s: ServiceName, slot?: ServiceSlot): Promise<ServiceState | null> {
    const key = this.key(s, slot);
    const run = this.running.get(key);
    if (!run) return null;
    const image = run.image ?? `fake/${s}`;
    return this.up(key) ? { state: 'running', health: 'healthy', image } : { state: 'exited', health: 'unhealthy', image };
  }
  async remove(s: ServiceName, slot?: ServiceSlot) { this.running.delete(this.key(s, slot)); this.stopped.delete(this.key(s, slot)); }
  async purge(s: ServiceName, slot?: ServiceSlot) {
    const gone = this.running.has(this.key(s, slot)) ? [`container fake-${this.key(s, slot)}`] : [];
    await this.remove(s, slot);
    const dir = this.dataDir(s, slot);
    if (this.root && existsSync(dir)) { rmSync(dir, { recursive: true, force: true }); gone.push(dir); }
    return gone;
  }
  logsRef(s: ServiceName, slot?: ServiceSlot) { return { id: `fake-${this.key(s, slot)}`, name: `fake-${this.key(s, slot)}` }; }
  /** apps with a Redis of their own, and its memory */
  readonly dedicated = new Map<string, RedisMemory>();
  readonly dedicatedRedis = {
    ensure: async (app: string, _pw: string, memory: RedisMemory) => {
      const had = this.dedicated.get(app);
      this.dedicated.set(app, memory);
      if (this.root) mkdirSync(this.dedicatedDir(app), { recursive: true });
      return { result: !had ? 'created' : JSON.stringify(had) !== JSON.stringify(memory) ? 'recreated' : 'ok', address: '10.0.1.2' };
    },
    address: async (app: string) => (this.dedicated.has(app) ? '10.0.1.2' : null),
    endpoint: (app: string) => ({ host: `fake-redis-${app}`, port: SERVICE_PORTS.redis }),
    remove: async (app: string, opts: { data: boolean }) => {
      this.dedicated.delete(app);
      if (opts.data && this.root) rmSync(this.dedicatedDir(app), { recursive: true, force: true });
    },
  };
  dataDir(s: ServiceName, slot?: ServiceSlot) { return this.root ? join(this.root, 'services', this.key(s, slot)) : `/nonexistent/fake/${this.key(s, slot)}`; }
  /** A dedicated Redis's data (under the root; only with one). */
  dedicatedDir(app: string) { return join(this.root ?? '/nonexistent/fake', 'services', 'redis-apps', app); }
  /** Tasks run the protocol's ['exit', CODE, TEXT], ['cat', FILE] (a secret file under
   *  TASK_SECRETS_DIR), ['env'] and ['cp', SECRET, OUT] (into outputDir, mounted at TASK_OUTPUT_DIR);
   *  any other command is recorded and ends with taskResult. */
  async task(s: TaskImage, t: TaskSpec): Promise<{ exitCode: number; output: string }> {
    const env = t.env ?? {};
    const under = `${TASK_SECRETS_DIR}/`;
    const secret = (path: string | undefined) => (path?.startsWith(under) ? t.secretFiles?.[path.slice(under.length)] : undefined);
    const [prog, a, b] = t.cmd;
    if (prog === 'exit') return { exitCode: Number(a), output: t.cmd.slice(2).join(' ') + (t.cmd.length > 2 ? '\n' : '') };
    if (prog === 'env') return { exitCode: 0, output: Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join('') };
    if (prog === 'cat' || prog === 'cp') {
      const content = secret(a);
      if (content === undefined) return { exitCode: 1, output: `${prog}: can't open '${a}': No such file or directory\n` };
      if (prog === 'cat') return { exitCode: 0, output: content };
      if (!b?.startsWith(`${TASK_OUTPUT_DIR}/`)) return { exitCode: 1, output: `cp: can't create '${b}'\n` };
      writeFileSync(join(t.outputDir, b.slice(TASK_OUTPUT_DIR.length + 1)), content);
      return { exitCode: 0, output: '' };
    }
    this.tasks.push({ service: s, name: t.name, cmd: t.cmd, env, secretFiles: t.secretFiles ?? {} });
    return this.taskResult;
  }
  /** The archive as a log of what was asked (programs run beside the server, instants restored
   *  to) and a stanza with its base backups; `archiveResult`, when set, answers every program. */
  readonly archiveCalls: string[][] = [];
  archiveResult: { exitCode: number; output: string } | undefined;
  private stanza = false;
  private readonly bases: { label: string; type: string; timestamp: { start: number; stop: number } }[] = [];
  private answer(cmd: string[]): string {
    const [prog, sub] = cmd;
    if (prog === 'psql') return '||';
    if (sub === 'stanza-create') { const had = this.stanza; this.stanza = true; return had ? "stanza 'berth' already exists" : 'stanza-create for stanza'; }
    if (sub === 'info') {
      return JSON.stringify([{ backup: this.bases, status: { code: 0, message: 'ok' }, db: [{ 'system-id': 7000000000000000001, version: '15' }] }]);
    }
    if (sub === 'backup') {
      const t = Math.floor(Date.now() / 1000);
      const type = cmd.find((a) => a.startsWith('--type='))?.slice(7) ?? 'full';
      this.bases.push({ label: `fake-${this.bases.length}`, type, timestamp: { start: t, stop: t } });
    }
    return '';
  }
  readonly archive = {
    sweep: async () => [] as string[],
    exec: async (cmd: string[]) => { this.archiveCalls.push(cmd); return this.archiveResult ?? { exitCode: 0, output: this.answer(cmd) }; },
    atTime: async <T>(o: { at: Date; db: string }, fn: (s: { network: string; host: string; port: number }) => Promise<T>) => {
      this.archiveCalls.push(['at', o.at.toISOString(), o.db]);
      return fn({ network: 'fake-pitr', host: 'fake-pitr', port: SERVICE_PORTS.postgres });
    },
  };
}
