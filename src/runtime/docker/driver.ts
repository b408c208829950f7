// Single-host runtime on Docker Engine, driven through its API over the unix socket. Every
// call has a deadline. An app's serving process is the container that holds the serving
// name; the proxy resolves that name through Docker's DNS, so switching a release is two
// renames and never touches the proxy's configuration (why: proxy/caddy/config.ts).
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DockerBuilder } from '../build/docker-builder.js';
import { httpProbe } from '../../lib/http-probe.js';
import { BerthError } from '../../lib/errors.js';
import { loginFailure } from '../pull-failure.js';
import type {
  AppNetwork, Attached, AttachOptions, ExportedDir, HealthCheck, ImageInfo, IsolationReport, OneOffKind, OneOffOptions, OneOffRef, OomEvent, ProcessSpec,
  ProcessType, Progress, PullCheck, RegistryAuth, RunOptions, Runtime, Unit, WaitOptions,
} from '../types.js';
import { appNetworkOf, WEB } from '../types.js';
import { demux, EngineApi, EngineError, isNameTaken, isNotFound, isNotModified, wholeFrames } from './engine-api.js';
import { classifyPullError, pullHint, pullImage } from './pull.js';
import { ndjson } from '../../lib/ndjson.js';
import { runToEnd } from './run-to-end.js';
import { exportDir } from './export-dir.js';
import { createAndStart, listOneOffs, removeContainer, startAttached, waitOneOff } from './one-offs.js';
import { DockerNetworks } from './networks.js';
import { DockerServices } from './services.js';
import { saveImageTo } from './image-archive.js';
import {
  appNetworkName, cronRunName, exitCodeFromStatus, LABEL, type Names, networkCreateBody, oneOffName, ownedFilter, processContainer,
  SERVING_CPU_SHARES, SERVING_RESTART_POLICY, servingName, unitName, volumeDir,
} from './specs.js';
import type { Paths } from '../../state/paths.js';

const PROBE_TIMEOUT_MS = 1000;

interface ListedContainer {
  Id: string; Names: string[]; State: string; Status: string; Labels: Record<string, string>;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

/** How long a removal waits for another call's removal of the same container to end. */
const REMOVAL_WAIT_MS = 60_000;

export class DockerRuntime implements Runtime {
  readonly services: DockerServices;
  readonly networks: DockerNetworks;
  readonly builder: DockerBuilder;
  /** Each unit's address on its app's network, from the last listing: probes need it. */
  private readonly addresses = new Map<string, string>();

  constructor(readonly api: EngineApi, readonly names: Names, private readonly paths: Paths) {
    this.networks = new DockerNetworks(api, names);
    this.services = new DockerServices(api, names, paths, this.networks);
    this.builder = new DockerBuilder(api, { stateDir: join(paths.stateDir, 'build') });
  }

  servingName(app: string, process: ProcessType, replica = 1): string { return servingName(this.names, app, process, replica); }

  async ping(): Promise<{ engine: string }> {
    const n = await this.api.negotiate();
    // asked again (unversioned): the engine may have been restarted, even replaced, since
    const ver = await this.api.json<{ Version: string; ApiVersion: string }>('GET', '/version', 'version', { unversioned: true });
    return { engine: `${ver.Version} (API ${ver.ApiVersion}, berth speaks ${n.version})` };
  }

  async checkAuth(auth: RegistryAuth): Promise<void> {
    try {
      await this.api.json('POST', '/auth', `login ${auth.serveraddress}`, { body: auth });
    } catch (e) {
      // the engine answered (500 with the registry's or the dialer's words); an engine down stays as it is
      if (!(e instanceof EngineError)) throw e;
      throw loginFailure(auth.serveraddress, classifyPullError(e.message), e.message);
    }
  }

  async ensureNetwork(): Promise<void> {
    try {
      await this.api.json('GET', `/networks/${encodeURIComponent(this.names.network)}`, 'inspect network');
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.api.json('POST', '/networks/create', 'create network', { body: networkCreateBody(this.names, await this.api.version()) });
    }
  }

  isolate(apps: AppNetwork[]): Promise<IsolationReport> { return this.networks.isolate(apps); }

  async ensureAppNetwork(n: AppNetwork): Promise<void> { await this.networks.ensureApp(n); }

  async removeAppNetwork(app: string): Promise<void> { await this.networks.remove(appNetworkName(this.names, app)); }

  async imageInfo(ref: string): Promise<ImageInfo | null> {
    try {
      const i = await this.api.json<{ Id: string; RepoDigests?: string[] }>('GET', `/images/${encodeURIComponent(ref)}/json`, `inspect image ${ref}`);
      return { id: i.Id, digest: i.RepoDigests?.[0] ?? null };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async ensureImage(ref: string, auth: RegistryAuth | undefined, progress: Progress, signal?: AbortSignal): Promise<ImageInfo> {
    const have = await this.imageInfo(ref);
    if (have) return have;
    try {
      await pullImage(this.api, ref, { auth, progress, signal });
    } catch (e) {
      const err = e as BerthError;
      // cancelled, a bad reference, or the engine itself not answering: not the registry's doing
      if (err.code === 'aborted' || err.code === 'invalid' || /cannot reach Docker Engine/.test(err.message)) throw e;
      const reason = classifyPullError(err.message);
      throw new BerthError(reason === 'not_found' ? 'not_found' : 'unavailable', `cannot pull ${ref} (${reason.replace('_', ' ')}): ${err.message}`,
        pullHint(reason, ref), { reason });
    }
    const got = await this.imageInfo(ref);
    if (!got) throw new BerthError('not_found', `image ${ref} is not present after pulling it`);
    return got;
  }

  async pullable(ref: string, progress: Progress): Promise<PullCheck> {
    if (await this.imageInfo(ref)) return { ok: true };
    try {
      await pullImage(this.api, ref, { progress });
      return { ok: true };
    } catch (e) {
      const message = (e as Error).message;
      return { ok: false, reason: classifyPullError(message), message };
    }
  }

  private toUnit(c: ListedContainer): Unit {
    const name = (c.Names[0] ?? '').replace(/^\//, '');
    const app = c.Labels[LABEL.app] ?? '';
    const process = c.Labels[LABEL.process] ?? WEB;
    const replica = Number(c.Labels[LABEL.replica] ?? 1);
    const nets = c.NetworkSettings?.Networks ?? {};
    // its app's network; the platform network only on a platform not yet migrated (networks.ts)
    const ip = nets[appNetworkName(this.names, app)]?.IPAddress || nets[this.names.network]?.IPAddress || null;
    if (ip) this.addresses.set(c.Id, ip);
    else this.addresses.delete(c.Id);
    return {
      id: c.Id, name, app, process, release: c.Labels[LABEL.release] ?? '', replica,
      running: c.State === 'running',
      restarting: c.State === 'restarting',
      exitCode: c.State === 'exited' ? exitCodeFromStatus(c.Status) : null,
      attached: !!ip,
      serving: name === this.servingName(app, process, replica),
      serves: process === WEB || c.Labels[LABEL.serves] === '1',
    };
  }

  private listRaw(filters: Record<string, string[]>): Promise<ListedContainer[]> {
    return this.api.json<ListedContainer[]>('GET', '/containers/json', 'list containers', { query: { all: true, filters: JSON.stringify(filters) } });
  }

  async list(app?: string): Promise<Unit[]> {
    const cs = await this.listRaw(ownedFilter(this.names, app));
    return Promise.all(cs.filter((c) => c.Labels[LABEL.role] === 'app').map((c) => this.withOom(this.toUnit(c))));
  }

  /** An exited unit says whether its memory limit killed it: only a full inspect tells. */
  private async withOom(u: Unit): Promise<Unit> {
    if (u.running || u.exitCode === null) return u;
    const info = await this.api.json<{ State: { OOMKilled?: boolean } }>('GET', `/containers/${u.id}/json`, `inspect ${u.name}`)
      .catch((e) => { if (isNotFound(e)) return null; throw e; });
    return { ...u, oomKilled: !!info?.State.OOMKilled };
  }

  async inspect(app: string, process: ProcessType, release: string): Promise<Unit | null> {
    return (await this.list(app)).find((u) => u.process === process && u.release === release && u.replica === 1) ?? null;
  }

  private async byName(name: string): Promise<Unit | null> {
    const cs = await this.listRaw({ name: [`^/${name}$`] });
    return cs[0] ? this.toUnit(cs[0]) : null;
  }

  private async removeByName(name: string): Promise<void> {
    const c = await this.byName(name);
    if (c) await this.remove(c);
  }

  private async create(name: string, body: object): Promise<string> {
    const r = await this.api.json<{ Id: string }>('POST', '/containers/create', `create ${name}`, { query: { name }, body });
    return r.Id;
  }

  private start_(id: string, name: string): Promise<unknown> {
    return this.api.buffer('POST', `/containers/${id}/start`, `start ${name}`).catch((e) => { if (!isNotModified(e)) throw e; });
  }

  async start(spec: ProcessSpec): Promise<Unit> {
    const name = unitName(this.names, spec.app, spec.process, spec.release, spec.replica);
    const leftover = await this.byName(name); // of an interrupted attempt
    // Names join app and process with dashes, so app `a` with process `b-web` and app `a-b`
    // with `web` meet: never remove another app's container for that.
    if (leftover && (leftover.app !== spec.app || leftover.process !== spec.process)) {
      throw new BerthError('conflict', `the container name ${name} is taken by app ${leftover.app} (process ${leftover.process})`,
        'rename the process (or the app) so that app and process names do not run into each other');
    }
    if (leftover) await this.remove(leftover);
    await this.networks.ensureApp(appNetworkOf(spec));
    this.ensureVolumes(spec);
    const id = await this.create(name, processContainer(this.names, spec, { volumesDir: this.paths.volumesDir }));
    await this.start_(id, name);
    const u = await this.byName(name);
    if (!u) throw new BerthError('unavailable', `docker: container ${name} vanished after start`);
    return u;
  }

  async probe(unit: Unit, check: HealthCheck): Promise<number | string> {
    let ip = this.addresses.get(unit.id);
    if (!ip) {
      const now = await this.byName(unit.name);
      ip = now ? this.addresses.get(now.id) : undefined;
    }
    if (!ip) return 'no address on its network';
    return httpProbe(ip, check.port, check.path, check.timeoutMs ?? PROBE_TIMEOUT_MS);
  }

  /** An app's volume directories, made on first use: the app's directory root-only (no other
   *  user of the host reads it), the volume itself open to whatever user the image runs as. */
  private ensureVolumes(spec: ProcessSpec): void {
    for (const m of spec.volumes ?? []) {
      const dir = volumeDir(this.paths.volumesDir, spec.app, m.volume);
      if (existsSync(dir)) continue;
      mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
      mkdirSync(dir, { mode: 0o777 });
      chmodSync(dir, 0o777); // past the umask
    }
  }

  private rename(id: string, from: string, to: string): Promise<unknown> {
    return this.api.buffer('POST', `/containers/${id}/rename`, `rename ${from}`, { query: { name: to } });
  }

  /** Renames, first removing a container that holds the new name (left by an interrupted
   *  attempt): tried at once, since it is nearly always free (one Engine API call on the switch's path). */
  private async renameOver(id: string, from: string, to: string): Promise<void> {
    try {
      await this.rename(id, from, to);
    } catch (e) {
      if (!isNameTaken(e)) throw e;
      await this.removeByName(to);
      await this.rename(id, from, to);
    }
  }

  private update(id: string, name: string, body: object): Promise<unknown> {
    return this.api.buffer('POST', `/containers/${id}/update`, `update ${name}`, { body });
  }

  async activate(unit: Unit, between?: () => Promise<void>): Promise<void> {
    if (!unit.serves && unit.process !== WEB) {
      await this.update(unit.id, unit.name, { RestartPolicy: SERVING_RESTART_POLICY, CpuShares: SERVING_CPU_SHARES });
      return;
    }
    const serving = this.servingName(unit.app, unit.process, unit.replica);
    if (unit.name === serving) return;
    const current = await this.byName(serving);
    let parked: { id: string; name: string; stopped: boolean } | null = null;
    if (current) {
      // what restore() gives back if parking fails half way: its name, and its restart policy once stopped for good
      const p = { id: current.id, name: serving, stopped: !current.running };
      parked = p;
      // a fresh copy of the same release replacing this one (unhealthy) starts under this one's parked name
      const parkedAs = unitName(this.names, current.app, current.process, current.release, current.replica);
      const name = parkedAs === unit.name ? `${parkedAs}-replaced` : parkedAs;
      try {
        if (p.stopped) await this.stopForGood(current, serving);
        if (name !== current.name) {
          await this.renameOver(current.id, serving, name).catch(async (e: Error) => {
            // it was running when looked at, and has died since (CI: a crash-looping release):
            // Docker renames no restarting container. It serves nothing now either.
            if (!/sandbox .* not found/.test(e.message)) throw e;
            p.stopped = true;
            await this.stopForGood(current, serving);
            await this.renameOver(current.id, serving, name);
          });
          p.name = name;
        }
      } catch (e) {
        await this.restore(p, serving, e as Error);
        throw e;
      }
    }
    try {
      await between?.();
      // It restarts on failure from the moment it serves (before, a crash must show as a crash)
      // and gets the full CPU weight. Set right before the rename, so that the rename is the last
      // step and a failure of either leaves the name with the release before. Not earlier (while
      // the release before is parked): a release that exits at once would then be restarting by
      // the time of the rename, which Docker refuses ("sandbox not found"; measured).
      await this.update(unit.id, unit.name, { RestartPolicy: SERVING_RESTART_POLICY, CpuShares: SERVING_CPU_SHARES });
      await this.rename(unit.id, unit.name, serving);
    } catch (e) {
      if (parked) await this.restore(parked, serving, e as Error);
      throw e;
    }
    unit.name = serving;
    unit.serving = true;
  }

  /** Down or crash-looping: its restart policy would bring it back in the middle of a rename
   *  ("sandbox not found"), so it stops for good (restore() gives the policy back). */
  private async stopForGood(u: Unit, serving: string): Promise<void> {
    await this.update(u.id, serving, { RestartPolicy: { Name: 'no' } });
    await this.stop(u, 0);
  }

  /** Gives the release that served before its name back (and its restart policy, if it was
   *  stopped for the switch): all or nothing. */
  private async restore(parked: { id: string; name: string; stopped: boolean }, serving: string, cause: Error): Promise<void> {
    try {
      if (parked.name !== serving) await this.rename(parked.id, parked.name, serving);
      if (parked.stopped) {
        await this.update(parked.id, serving, { RestartPolicy: SERVING_RESTART_POLICY });
        await this.start_(parked.id, serving);
      }
    } catch (e) {
      throw new BerthError('unavailable', `switch failed (${cause.message}), and putting the previous release back failed too: ${(e as Error).message}`,
        'the daemon puts it back at its next reconcile (within 15 s); or run: berth up');
    }
  }

  async runOnce(spec: ProcessSpec, cmd: string[], opts: RunOptions): Promise<{ exitCode: number; output: string }> {
    const name = oneOffName(this.names, spec.app, spec.release, Date.now().toString(36));
    await this.networks.ensureApp(appNetworkOf(spec));
    this.ensureVolumes(spec);
    return runToEnd(this.api, name, processContainer(this.names, spec, { oneOff: true, cmd, volumesDir: this.paths.volumesDir }), opts);
  }

  async removeOneOffs(): Promise<string[]> {
    const cs = await this.listRaw({ label: [`${LABEL.instance}=${this.names.instance}`, LABEL.app] });
    // killed at once (force), not drained: its deploy is being rolled back (or its `berth run`
    // lost its terminal), and the daemon answers no one until its recovery is done
    const gone = cs.filter((c) => c.Labels[LABEL.role] === 'one-off' || c.Labels[LABEL.role] === 'run');
    for (const c of gone) await removeContainer(this.api, c.Id, c.Names[0] ?? c.Id);
    return gone.map((c) => c.Names[0]!.replace(/^\//, ''));
  }

  async startOneOff(spec: ProcessSpec, cmd: string[], o: OneOffOptions): Promise<OneOffRef> {
    const name = o.kind === 'cron' ? cronRunName(this.names, spec.app, o.key) : oneOffName(this.names, spec.app, spec.release, Date.now().toString(36));
    await this.networks.ensureApp(appNetworkOf(spec));
    this.ensureVolumes(spec);
    const id = await createAndStart(this.api, name,
      processContainer(this.names, spec, { oneOff: { role: o.kind, key: o.key }, cmd, volumesDir: this.paths.volumesDir }));
    return { id, name, app: spec.app, kind: o.kind, key: o.key, running: true };
  }

  async startAttached(spec: ProcessSpec, cmd: string[], o: OneOffOptions & AttachOptions): Promise<Attached> {
    const name = oneOffName(this.names, spec.app, spec.release, Date.now().toString(36));
    await this.networks.ensureApp(appNetworkOf(spec));
    this.ensureVolumes(spec);
    const body = processContainer(this.names, spec, { oneOff: { role: o.kind, key: o.key }, cmd, volumesDir: this.paths.volumesDir, attach: o });
    return startAttached(this.api, { name, app: spec.app }, body, o);
  }

  waitOneOff(ref: Pick<OneOffRef, 'id' | 'name'>, opts: WaitOptions): Promise<{ exitCode: number; output: string }> {
    return waitOneOff(this.api, ref, opts);
  }

  listOneOffs(kind: OneOffKind): Promise<OneOffRef[]> { return listOneOffs(this.api, this.names, kind); }

  async stop(unit: Unit, graceMs: number): Promise<void> {
    const t = Math.ceil(graceMs / 1000);
    await this.api.buffer('POST', `/containers/${unit.id}/stop`, `stop ${unit.name}`, { query: { t }, timeoutMs: graceMs + 30_000 })
      .catch((e) => { if (!isNotModified(e) && !isNotFound(e)) throw e; });
  }

  async remove(unit: Unit): Promise<void> {
    await this.api.buffer('DELETE', `/containers/${unit.id}`, `remove ${unit.name}`, { query: { force: true } }).catch(async (e) => {
      if (isNotFound(e)) return;
      // another call removes it now (the warm stop of an older release, met by a cold rollback to it): wait until it is gone
      if (!/removal of container .* is already in progress/.test((e as Error).message)) throw e;
      await this.goneWithin(unit, REMOVAL_WAIT_MS);
    });
    this.addresses.delete(unit.id);
  }

  private async goneWithin(unit: Unit, ms: number): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      const there = await this.api.json('GET', `/containers/${unit.id}/json`, `inspect ${unit.name}`).then(() => true, (e) => {
        if (isNotFound(e)) return false;
        throw e;
      });
      if (!there) return;
      if (Date.now() > end) {
        throw new BerthError('timeout', `${unit.name} was still being removed after ${ms / 1000}s`, `see: docker ps -a | grep ${unit.name}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async logs(unit: Pick<Unit, 'id' | 'name'>, tail: number): Promise<string> {
    return demux(await this.api.buffer('GET', `/containers/${unit.id}/logs`, `logs ${unit.name}`, { query: { stdout: true, stderr: true, tail } }));
  }

  async followLogs(unit: Pick<Unit, 'id' | 'name'>, tail: number, onChunk: (chunk: string) => void, signal: AbortSignal): Promise<void> {
    const res = await this.api.open('GET', `/containers/${unit.id}/logs`, `logs ${unit.name}`,
      { query: { stdout: true, stderr: true, tail, follow: true }, timeoutMs: 0 });
    const stop = () => res.destroy();
    signal.addEventListener('abort', stop, { once: true });
    let pending: Buffer = Buffer.alloc(0);
    try {
      for await (const chunk of res) {
        const f = wholeFrames(Buffer.concat([pending, chunk as Buffer]));
        if (f.whole) onChunk(demux(f.whole));
        pending = f.rest;
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  async watchOom(onOom: (u: OomEvent) => void, signal: AbortSignal): Promise<void> {
    const filters = { type: ['container'], event: ['oom'], label: [`${LABEL.instance}=${this.names.instance}`] };
    const res = await this.api.open('GET', '/events', 'watch events', { query: { filters: JSON.stringify(filters) }, timeoutMs: 0 });
    const stop = () => res.destroy();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const e of ndjson<{ Actor?: { Attributes?: Record<string, string> } }>(res)) {
        const a = e.Actor?.Attributes ?? {};
        if (a[LABEL.role] !== 'app' && a[LABEL.role] !== 'one-off') continue;
        onOom({
          app: a[LABEL.app] ?? '', release: a[LABEL.release] ?? '', process: a[LABEL.process] ?? WEB, name: a.name ?? '', oneOff: a[LABEL.role] === 'one-off',
        });
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  exportDir(image: string, path: string, dest: string): Promise<ExportedDir> { return exportDir(this.api, this.names, image, path, dest); }

  saveImage(ref: string, file: string): Promise<void> { return saveImageTo(this.api, ref, file); }

  async removeImage(id: string): Promise<void> {
    // 409: another image or container still uses it; it goes with its last user
    await this.api.buffer('DELETE', `/images/${encodeURIComponent(id)}`, `remove image ${id}`)
      .catch((e) => { if (!isNotFound(e) && (e as { statusCode?: number }).statusCode !== 409) throw e; });
  }
}
