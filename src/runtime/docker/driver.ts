// Single-host runtime on Docker Engine, driven through its API over the unix socket. Every
// call has a deadline. An app's serving process is the container that holds the serving
// name; the proxy resolves that name through Docker's DNS, so switching a release is two
// renames and never touches the proxy's configuration.
import { BerthError } from '../../lib/errors.js';
import type { ImageInfo, ProcessSpec, ProcessType, Progress, RegistryAuth, Runtime, Unit } from '../types.js';
import { demux, EngineApi, isNotFound, isNotModified, progressText } from './engine-api.js';
import {
  exitCodeFromStatus, LABEL, type Names, networkCreateBody, oneOffName, ownedFilter, parkedName, processContainer,
  SERVING_CPU_SHARES, SERVING_RESTART_POLICY, servingName,
} from './specs.js';

const PULL_TIMEOUT_MS = 15 * 60_000;

export { isNotFound };

interface ListedContainer {
  Id: string; Names: string[]; State: string; Status: string; Labels: Record<string, string>;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

/** Splits an image reference into what POST /images/create wants. */
export function pullParams(ref: string): { fromImage: string; tag?: string } {
  if (ref.includes('@')) return { fromImage: ref };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? { fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { fromImage: ref, tag: 'latest' };
}

/** X-Registry-Auth: URL-safe base64 *with* padding (Go's base64.URLEncoding; Node's base64url drops it). */
export const registryAuthHeader = (auth: RegistryAuth) => Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

export class DockerRuntime implements Runtime {
  constructor(readonly api: EngineApi, readonly names: Names) {}

  servingName(app: string, process: ProcessType): string { return servingName(this.names, app, process); }

  async ping(): Promise<{ engine: string }> {
    const n = await this.api.negotiate();
    // asked again (unversioned): the engine may have been restarted, even replaced, since
    const ver = await this.api.json<{ Version: string; ApiVersion: string }>('GET', '/version', 'version', { unversioned: true });
    return { engine: `${ver.Version} (API ${ver.ApiVersion}, berth speaks ${n.version})` };
  }

  async checkAuth(auth: RegistryAuth): Promise<void> {
    await this.api.json('POST', '/auth', `login ${auth.serveraddress}`, { body: auth });
  }

  async ensureNetwork(): Promise<void> {
    try {
      await this.api.json('GET', `/networks/${encodeURIComponent(this.names.network)}`, 'inspect network');
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.api.json('POST', '/networks/create', 'create network', { body: networkCreateBody(this.names, await this.api.version()) });
    }
  }

  async imageInfo(ref: string): Promise<ImageInfo | null> {
    try {
      const i = await this.api.json<{ Id: string; RepoDigests?: string[] }>('GET', `/images/${encodeURIComponent(ref)}/json`, `inspect image ${ref}`);
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
    await this.api.progress('POST', '/images/create', `pull ${ref}`, {
      query: pullParams(ref), timeoutMs: PULL_TIMEOUT_MS, headers: auth ? { 'X-Registry-Auth': registryAuthHeader(auth) } : {},
    }, (ev) => { const line = progressText(ev); if (line) progress(line); });
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
      exitCode: c.State === 'exited' ? exitCodeFromStatus(c.Status) : null,
      ip: c.NetworkSettings?.Networks?.[this.names.network]?.IPAddress || null,
      serving: name === this.servingName(app, process),
    };
  }

  private listRaw(filters: Record<string, string[]>): Promise<ListedContainer[]> {
    return this.api.json<ListedContainer[]>('GET', '/containers/json', 'list containers', { query: { all: true, filters: JSON.stringify(filters) } });
  }

  async list(app?: string): Promise<Unit[]> {
    const cs = await this.listRaw(ownedFilter(this.names, app));
    return cs.filter((c) => c.Labels[LABEL.role] === 'app').map((c) => this.toUnit(c));
  }

  async inspect(app: string, process: ProcessType, release: string): Promise<Unit | null> {
    return (await this.list(app)).find((u) => u.process === process && u.release === release) ?? null;
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
    const name = parkedName(this.names, spec.app, spec.process, spec.release);
    await this.removeByName(name); // a leftover of an interrupted attempt
    const id = await this.create(name, processContainer(this.names, spec));
    await this.start_(id, name);
    const u = await this.byName(name);
    if (!u) throw new BerthError('unavailable', `docker: container ${name} vanished after start`);
    return u;
  }

  private rename(id: string, from: string, to: string): Promise<unknown> {
    return this.api.buffer('POST', `/containers/${id}/rename`, `rename ${from}`, { query: { name: to } });
  }

  async activate(unit: Unit, between?: () => Promise<void>): Promise<void> {
    const serving = this.servingName(unit.app, unit.process);
    if (unit.name === serving) return;
    const current = await this.byName(serving);
    if (current) {
      const parked = parkedName(this.names, current.app, current.process, current.release);
      if (parked !== current.name) {
        await this.removeByName(parked);
        await this.rename(current.id, serving, parked);
      }
    }
    await between?.();
    await this.rename(unit.id, unit.name, serving);
    await this.api.buffer('POST', `/containers/${unit.id}/update`, `update ${serving}`, { body: { RestartPolicy: SERVING_RESTART_POLICY, CpuShares: SERVING_CPU_SHARES } });
    unit.name = serving;
    unit.serving = true;
  }

  async runOnce(spec: ProcessSpec, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const name = oneOffName(this.names, spec.app, spec.release, Date.now().toString(36));
    const id = await this.create(name, processContainer(this.names, spec, { oneOff: true, cmd }));
    try {
      await this.start_(id, name);
      const res = await this.api.json<{ StatusCode: number }>('POST', `/containers/${id}/wait`, `wait ${name}`, { timeoutMs });
      const out = await this.api.buffer('GET', `/containers/${id}/logs`, `logs ${name}`, { query: { stdout: true, stderr: true, tail: 50 } });
      return { exitCode: res.StatusCode, output: demux(out) };
    } finally {
      await this.api.buffer('DELETE', `/containers/${id}`, `remove ${name}`, { query: { force: true } }).catch((e) => { if (!isNotFound(e)) throw e; });
    }
  }

  async stop(unit: Unit, graceMs: number): Promise<void> {
    const t = Math.ceil(graceMs / 1000);
    await this.api.buffer('POST', `/containers/${unit.id}/stop`, `stop ${unit.name}`, { query: { t }, timeoutMs: graceMs + 30_000 })
      .catch((e) => { if (!isNotModified(e) && !isNotFound(e)) throw e; });
  }

  async remove(unit: Unit): Promise<void> {
    await this.api.buffer('DELETE', `/containers/${unit.id}`, `remove ${unit.name}`, { query: { force: true } })
      .catch((e) => { if (!isNotFound(e)) throw e; });
  }

  async logs(unit: Pick<Unit, 'id' | 'name'>, tail: number): Promise<string> {
    return demux(await this.api.buffer('GET', `/containers/${unit.id}/logs`, `logs ${unit.name}`, { query: { stdout: true, stderr: true, tail } }));
  }

  async followLogs(unit: Pick<Unit, 'id' | 'name'>, tail: number, onChunk: (chunk: string) => void, signal: AbortSignal): Promise<void> {
    const res = await this.api.open('GET', `/containers/${unit.id}/logs`, `logs ${unit.name}`,
      { query: { stdout: true, stderr: true, tail, follow: true }, timeoutMs: 0 });
    const stop = () => res.destroy();
    signal.addEventListener('abort', stop, { once: true });
    let pending = Buffer.alloc(0);
    try {
      for await (const chunk of res) {
        pending = Buffer.concat([pending, chunk as Buffer]);
        // emit whole frames only; keep a partial one for the next chunk
        let i = 0;
        while (i + 8 <= pending.length && i + 8 + pending.readUInt32BE(i + 4) <= pending.length) i += 8 + pending.readUInt32BE(i + 4);
        if (i > 0) onChunk(demux(pending.subarray(0, i)));
        pending = pending.subarray(i);
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  async removeImage(id: string): Promise<void> {
    await this.api.buffer('DELETE', `/images/${encodeURIComponent(id)}`, `remove image ${id}`)
      .catch((e) => { if (!isNotFound(e) && (e as { statusCode?: number }).statusCode !== 409) throw e; });
  }
}
