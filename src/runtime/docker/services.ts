// The shared services' containers on Docker: built images (or a pulled MinIO), one container
// each on the platform network, and one-off tasks in their images (a purge's pg_dump).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.js';
import type { Paths } from '../../state/paths.js';
import { GARAGE_IMAGE, type ServiceName } from '../../state/settings.js';
import { SERVICE_PORTS } from '../../state/service-ports.js';
import {
  type Progress, type RedisMemory, type RunOptions, type ServiceRun, type ServiceRuntime, type ServiceSlot, type ServiceState, type TaskImage, type TaskSpec,
  TASK_OUTPUT_DIR, TASK_SECRETS_DIR,
} from '../types.js';
import { type EngineApi, isNotFound } from './engine-api.js';
import { imageExists } from './images.js';
import { classifyPullError, pullHint, pullImage } from './pull.js';
import { runToEnd } from './run-to-end.js';
import {
  dedicatedRedisPlacement, ensureServiceContainer, minioSecretsDir, serviceContainerName, serviceDataDir, sharedPlacement,
} from './service-containers.js';
import { ensurePgToolsImage } from './pg-tools-image.js';
import { ARCHIVE_CONFIG_FILE, DockerPgArchive } from './pg-archive.js';
import { ensurePostgresImage, ensureRedisImage, ensureS3Image } from './service-images.js';
import type { DockerNetworks } from './networks.js';
import { LABEL, type Names } from './specs.js';
import { ensureGarageImage } from './object-store-images.js';

/** The image as it is, pulled when missing; a failure says why. `local`: the image to run instead
 *  when the pull fails (berth's own build of the same Garage release), chosen at each start and
 *  never recorded: the reason is said, and a registry that answers later gets its image pulled
 *  (the container then moves onto it). Without `local`, the failure stops the start. */
export async function pulledImage(api: EngineApi, ref: string, progress: Progress, local?: () => Promise<string>): Promise<string> {
  if (await imageExists(api, ref)) return ref;
  try {
    await pullImage(api, ref, { progress, timeoutMs: 5 * 60_000 });
    return ref;
  } catch (e) {
    const message = (e as Error).message;
    const reason = classifyPullError(message);
    if (local) {
      progress(`cannot pull ${ref} (${reason.replace('_', ' ')}: ${message}): using berth's local build of the same release; the next berth up tries again`);
      return local();
    }
    throw new BerthError('unavailable', `cannot pull ${ref} (${reason.replace('_', ' ')}), which holds the object storage's data format: ${message}`,
      pullHint(reason, ref), { reason });
  }
}

type Inspect = { Id: string; State: { Status: string; Running: boolean; Health?: { Status: string } }; Config: { Image: string };
  NetworkSettings: { Networks: Record<string, { IPAddress?: string }> } };

/** berth's own build of each service's image (built where missing, rebuilt where outdated). */
const BUILDS = { postgres: ensurePostgresImage, redis: ensureRedisImage, s3: ensureS3Image };

export class DockerServices implements ServiceRuntime {
  readonly archive: DockerPgArchive;

  constructor(readonly api: EngineApi, readonly names: Names, readonly paths: Paths, private readonly networks: DockerNetworks) {
    this.archive = new DockerPgArchive(api, names, paths, networks, join(serviceDataDir(paths, 'postgres'), ARCHIVE_CONFIG_FILE));
  }

  private name(s: ServiceName, slot?: ServiceSlot): string { return serviceContainerName(this.names, s, slot); }

  endpoint(s: ServiceName, slot?: ServiceSlot): { host: string; port: number } {
    return { host: this.name(s, slot), port: SERVICE_PORTS[s] };
  }

  private async inspect(s: ServiceName, slot?: ServiceSlot): Promise<Inspect | null> {
    const name = this.name(s, slot);
    return this.api.json<Inspect>('GET', `/containers/${name}/json`, `inspect ${name}`)
      .catch((e) => { if (isNotFound(e)) return null; throw e; });
  }

  async ensure(run: ServiceRun, progress: Progress): Promise<{ result: string; address: string }> {
    const s = run.service;
    const local = run.garage ? ensureGarageImage : BUILDS[s];
    // berth's build stands in for Garage's published image of the release it pins, and no other
    const stand = run.garage && run.image === GARAGE_IMAGE ? () => local(this.api, progress) : undefined;
    const image = run.image ? await pulledImage(this.api, run.image, progress, stand) : await local(this.api, progress);
    const { result, ip, id } = await ensureServiceContainer(this.api, this.names, this.paths, s, image, run.adminPassword, progress,
      { minio: run.minio, redis: run.redis, garage: run.garage, archive: run.archive,
        ...(run.slot ? { at: sharedPlacement(this.names, this.paths, s, run.slot) } : {}) });
    // on its apps' networks at once: a recreated service must not wait for the reconcile
    if (result !== 'ok') await this.networks.attachToApps(id, run.apps ?? []);
    return { result, address: ip };
  }

  async address(s: ServiceName, slot?: ServiceSlot): Promise<string | null> {
    const info = await this.inspect(s, slot);
    return info?.State.Running ? info.NetworkSettings.Networks[this.names.network]?.IPAddress || null : null;
  }

  async state(s: ServiceName, slot?: ServiceSlot): Promise<ServiceState | null> {
    const info = await this.inspect(s, slot);
    return info ? { state: info.State.Status, health: info.State.Health?.Status ?? null, image: info.Config.Image } : null;
  }

  async remove(s: ServiceName, slot?: ServiceSlot): Promise<void> {
    const name = this.name(s, slot);
    await this.api.buffer('DELETE', `/containers/${name}`, `remove ${name}`, { query: { force: true } })
      .catch((e) => { if (!isNotFound(e)) throw e; });
  }

  async purge(s: ServiceName, slot?: ServiceSlot): Promise<string[]> {
    const gone: string[] = [];
    if (await this.inspect(s, slot)) gone.push(`container ${this.name(s, slot)}`);
    await this.remove(s, slot);
    for (const dir of [this.dataDir(s, slot), ...(s === 's3' ? [minioSecretsDir(this.paths, slot)] : [])]) {
      if (!existsSync(dir)) continue;
      rmSync(dir, { recursive: true, force: true });
      gone.push(dir);
    }
    return gone;
  }

  logsRef(s: ServiceName, slot?: ServiceSlot) { return { id: this.name(s, slot), name: this.name(s, slot) }; }

  readonly dedicatedRedis = {
    ensure: async (app: string, adminPassword: string, memory: RedisMemory, progress: Progress) => {
      const image = await ensureRedisImage(this.api, progress);
      const at = dedicatedRedisPlacement(this.names, this.paths, app);
      const { result, ip, id } = await ensureServiceContainer(this.api, this.names, this.paths, 'redis', image, adminPassword, progress, { redis: memory, at });
      await this.networks.attachTo(app, id); // its app's network, no other app's
      return { result, address: ip };
    },
    address: async (app: string) => {
      const name = dedicatedRedisPlacement(this.names, this.paths, app).name;
      const info = await this.api.json<Inspect>('GET', `/containers/${name}/json`, `inspect ${name}`)
        .catch((e) => { if (isNotFound(e)) return null; throw e; });
      return info?.State.Running ? info.NetworkSettings.Networks[this.names.network]?.IPAddress || null : null;
    },
    endpoint: (app: string) => ({ host: dedicatedRedisPlacement(this.names, this.paths, app).name, port: SERVICE_PORTS.redis }),
    remove: async (app: string, opts: { data: boolean }) => {
      const at = dedicatedRedisPlacement(this.names, this.paths, app);
      await this.api.buffer('DELETE', `/containers/${at.name}`, `remove ${at.name}`, { query: { force: true } }).catch((e) => { if (!isNotFound(e)) throw e; });
      if (opts.data) rmSync(at.dataDir, { recursive: true, force: true });
    },
  };

  dataDir(s: ServiceName, slot?: ServiceSlot): string { return serviceDataDir(this.paths, s, slot); }

  async task(s: TaskImage, t: TaskSpec, opts: RunOptions): Promise<{ exitCode: number; output: string }> {
    // secrets in 0600 files under the root-only run dir, mounted read-only: never in the env,
    // where docker inspect would show them
    mkdirSync(this.paths.runDir, { recursive: true, mode: 0o700 });
    const secrets = mkdtempSync(join(this.paths.runDir, 'task-'));
    try {
      for (const [file, content] of Object.entries(t.secretFiles ?? {})) writeFileSync(join(secrets, file), content, { mode: 0o600 });
      const name = `${this.names.instance}-${t.name}`;
      await this.api.buffer('DELETE', `/containers/${name}`, `remove ${name}`, { query: { force: true } }).catch((e) => { if (!isNotFound(e)) throw e; });
      return await runToEnd(this.api, name, {
        // built here too: a task does not count on its service having run first
        Image: s === 'pg-tools' ? await ensurePgToolsImage(this.api, () => undefined) : await BUILDS[s](this.api, () => undefined),
        Cmd: t.cmd,
        Env: Object.entries(t.env ?? {}).map(([k, v]) => `${k}=${v}`),
        Labels: { [LABEL.instance]: this.names.instance, [LABEL.role]: 'one-off' },
        HostConfig: { Binds: [`${t.outputDir}:${TASK_OUTPUT_DIR}`, `${secrets}:${TASK_SECRETS_DIR}:ro`], NetworkMode: t.network ?? this.names.network },
      }, opts);
    } finally {
      rmSync(secrets, { recursive: true, force: true });
    }
  }
}
