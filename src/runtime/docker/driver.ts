// Single-host runtime on Docker Engine, driven through its API (dockerode over the unix
// socket). Every call has a deadline. An app's serving process is the container that holds
// the serving name; the proxy resolves that name through Docker's DNS, so switching a release
// is two renames and never touches the proxy's configuration.
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { BerthError, withTimeout } from '../../lib/errors.js';
import type { ImageInfo, ProcessSpec, ProcessType, Progress, RegistryAuth, Runtime, Unit } from '../types.js';
import { LABEL, type Names, oneOffName, ownedFilter, parkedName, processContainer, SERVING_RESTART_POLICY, servingName } from './specs.js';

const API_TIMEOUT_MS = 30_000;
const PULL_TIMEOUT_MS = 15 * 60_000;

type DockerErr = { statusCode?: number; message?: string; json?: { message?: string } };
const status = (e: unknown) => (e as DockerErr)?.statusCode;
export const isNotFound = (e: unknown) => status(e) === 404;

export function dockerClient(socketPath = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock'): Docker {
  return new Docker({ socketPath, timeout: PULL_TIMEOUT_MS });
}

/** Splits Docker's multiplexed stdout/stderr frames into text. */
export function demux(buf: Buffer): string {
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length && buf[i]! <= 2 && buf[i + 1] === 0) {
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return i === 0 ? buf.toString('utf8') : out;
}

interface ListedContainer {
  Id: string; Names: string[]; State: string; Status: string; Labels: Record<string, string>;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

export class DockerRuntime implements Runtime {
  constructor(readonly docker: Docker, readonly names: Names) {}

  servingName(app: string, process: ProcessType): string { return servingName(this.names, app, process); }

  private call<T>(what: string, p: Promise<T>, ms = API_TIMEOUT_MS): Promise<T> {
    return withTimeout(p, ms, `docker: ${what}`).catch((e: unknown) => {
      if (e instanceof BerthError) throw e;
      const d = e as DockerErr;
      throw Object.assign(new BerthError(status(e) === 404 ? 'not_found' : 'unavailable',
        `docker: ${what}: ${d.json?.message ?? d.message ?? String(e)}`), { statusCode: status(e) });
    });
  }

  async ping(): Promise<{ engine: string }> {
    const ver = await this.call('version', this.docker.version());
    return { engine: `${ver.Version} (API ${ver.ApiVersion})` };
  }

  async checkAuth(auth: RegistryAuth): Promise<void> {
    await this.call(`login ${auth.serveraddress}`, this.docker.checkAuth(auth));
  }

  async ensureNetwork(): Promise<void> {
    const net = this.docker.getNetwork(this.names.network);
    try {
      await this.call('inspect network', net.inspect());
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.call('create network', this.docker.createNetwork({
        Name: this.names.network, Driver: 'bridge', CheckDuplicate: true,
        Labels: { [LABEL.instance]: this.names.instance },
      }));
    }
  }

  async imageInfo(ref: string): Promise<ImageInfo | null> {
    try {
      const i = await this.call(`inspect image ${ref}`, this.docker.getImage(ref).inspect());
      return { id: i.Id, digest: i.RepoDigests?.[0] ?? null };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async ensureImage(ref: string, auth: RegistryAuth | undefined, progress: Progress): Promise<ImageInfo> {
    const have = await this.imageInfo(ref);
    if (have) return have;
    progress(`pulling ${ref}`);
    await this.call(`pull ${ref}`, new Promise<void>((resolve, reject) => {
      this.docker.pull(ref, auth ? { authconfig: auth } : {}, (err: unknown, stream?: NodeJS.ReadableStream) => {
        if (err || !stream) return reject(err);
        this.docker.modem.followProgress(stream, (e: unknown) => (e ? reject(e) : resolve()),
          (ev: { status?: string; id?: string; progress?: string }) => {
            if (ev.status && !ev.progress) progress(`${ev.id ? ev.id + ': ' : ''}${ev.status}`);
          });
      });
    }), PULL_TIMEOUT_MS);
    const got = await this.imageInfo(ref);
    if (!got) throw new BerthError('not_found', `image ${ref} is not present after pulling it`);
    return got;
  }

  private toUnit(c: ListedContainer): Unit {
    const name = (c.Names[0] ?? '').replace(/^\//, '');
    const app = c.Labels[LABEL.app] ?? '';
    const process = (c.Labels[LABEL.process] ?? 'web') as ProcessType;
    return {
      id: c.Id, name, app, process, release: c.Labels[LABEL.release] ?? '',
      running: c.State === 'running',
      exitCode: c.State === 'exited' ? Number(/Exited \((\d+)\)/.exec(c.Status)?.[1] ?? -1) : null,
      ip: c.NetworkSettings?.Networks?.[this.names.network]?.IPAddress || null,
      serving: name === this.servingName(app, process),
    };
  }

  async list(app?: string): Promise<Unit[]> {
    const cs = await this.call('list containers',
      this.docker.listContainers({ all: true, filters: ownedFilter(this.names, app) })) as unknown as ListedContainer[];
    return cs.filter((c) => c.Labels[LABEL.role] === 'app').map((c) => this.toUnit(c));
  }

  async inspect(app: string, process: ProcessType, release: string): Promise<Unit | null> {
    return (await this.list(app)).find((u) => u.process === process && u.release === release) ?? null;
  }

  private async byName(name: string): Promise<Unit | null> {
    const cs = await this.call(`find ${name}`,
      this.docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } })) as unknown as ListedContainer[];
    return cs[0] ? this.toUnit(cs[0]) : null;
  }

  private async removeByName(name: string): Promise<void> {
    const c = await this.byName(name);
    if (c) await this.remove(c);
  }

  async start(spec: ProcessSpec): Promise<Unit> {
    const name = parkedName(this.names, spec.app, spec.process, spec.release);
    await this.removeByName(name); // a leftover of an interrupted attempt
    const c = await this.call(`create ${name}`, this.docker.createContainer({ name, ...processContainer(this.names, spec) }));
    await this.call(`start ${name}`, c.start());
    const u = await this.byName(name);
    if (!u) throw new BerthError('unavailable', `docker: container ${name} vanished after start`);
    return u;
  }

  async activate(unit: Unit, between?: () => Promise<void>): Promise<void> {
    const serving = this.servingName(unit.app, unit.process);
    if (unit.name === serving) return;
    const current = await this.byName(serving);
    if (current) {
      const parked = parkedName(this.names, current.app, current.process, current.release);
      if (parked !== current.name) {
        await this.removeByName(parked);
        await this.call(`rename ${serving}`, this.docker.getContainer(current.id).rename({ name: parked }));
      }
    }
    await between?.();
    await this.call(`rename ${unit.name}`, this.docker.getContainer(unit.id).rename({ name: serving }));
    await this.call(`update ${serving}`, this.docker.getContainer(unit.id).update({ RestartPolicy: SERVING_RESTART_POLICY }));
    unit.name = serving;
    unit.serving = true;
  }

  async runOnce(spec: ProcessSpec, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const name = oneOffName(this.names, spec.app, spec.release, Date.now().toString(36));
    const c = await this.call(`create ${name}`, this.docker.createContainer({ name, ...processContainer(this.names, spec, { oneOff: true, cmd }) }));
    try {
      await this.call(`start ${name}`, c.start());
      const res = await this.call(`wait ${name}`, c.wait() as Promise<{ StatusCode: number }>, timeoutMs);
      const out = await this.call(`logs ${name}`, c.logs({ stdout: true, stderr: true, tail: 50 }) as unknown as Promise<Buffer>);
      return { exitCode: res.StatusCode, output: demux(out) };
    } finally {
      await this.call(`remove ${name}`, c.remove({ force: true })).catch((e) => { if (!isNotFound(e)) throw e; });
    }
  }

  async stop(unit: Unit, graceMs: number): Promise<void> {
    const t = Math.ceil(graceMs / 1000);
    await this.call(`stop ${unit.name}`, this.docker.getContainer(unit.id).stop({ t }), graceMs + API_TIMEOUT_MS)
      .catch((e) => { if (status(e) !== 304 && !isNotFound(e)) throw e; });
  }

  async remove(unit: Unit): Promise<void> {
    await this.call(`remove ${unit.name}`, this.docker.getContainer(unit.id).remove({ force: true }))
      .catch((e) => { if (!isNotFound(e)) throw e; });
  }

  async logs(unit: Unit, tail: number): Promise<string> {
    const buf = await this.call(`logs ${unit.name}`,
      this.docker.getContainer(unit.id).logs({ stdout: true, stderr: true, tail }) as unknown as Promise<Buffer>);
    return demux(buf);
  }

  async followLogs(unit: Unit, tail: number, onChunk: (chunk: string) => void, signal: AbortSignal): Promise<void> {
    const stream = await this.call(`logs ${unit.name}`, this.docker.getContainer(unit.id)
      .logs({ stdout: true, stderr: true, tail, follow: true })) as unknown as NodeJS.ReadableStream & { destroy(): void };
    const out = new PassThrough();
    out.on('data', (d: Buffer) => onChunk(d.toString('utf8')));
    this.docker.modem.demuxStream(stream, out, out);
    await new Promise<void>((resolve) => {
      const done = () => { stream.destroy(); resolve(); };
      signal.addEventListener('abort', done, { once: true });
      stream.on('end', done);
      stream.on('error', done);
    });
  }

  async removeImage(id: string): Promise<void> {
    await this.call(`remove image ${id}`, this.docker.getImage(id).remove())
      .catch((e) => { if (!isNotFound(e) && status(e) !== 409) throw e; });
  }
}
