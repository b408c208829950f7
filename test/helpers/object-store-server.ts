// A real object store in a container of its own (the local Garage or MinIO image, started by
// berth's own container code under a temporary root), on a network of its own, reached from this
// host at the container's address: what the shared contract suite runs against.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineApi } from '../../src/runtime/docker/engine-api.js';
import { ensureGarageImage, ensureMinioImage } from '../../src/runtime/docker/object-store-images.js';
import { ensureServiceContainer, serviceContainerName } from '../../src/runtime/docker/service-containers.js';
import { GARAGE_ADMIN_PORT, SERVICE_PORTS } from '../../src/state/service-ports.js';
import { pathsFor } from '../../src/state/paths.js';
import { docker } from './platform.js';

export interface StoreServer { ip: string; s3: string; admin: string; rootSecret: string; rpcSecret: string; instance: string; stop(): Promise<void> }

const hex = (n: number) => [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, '0')).join('');

export async function startStore(kind: 'garage' | 'minio'): Promise<StoreServer> {
  const api = new EngineApi();
  const instance = `t${Math.random().toString(36).slice(2, 9)}`;
  const root = mkdtempSync(join(tmpdir(), `berth-${kind}-`));
  const names = { instance, network: instance };
  await docker.createNetwork({ Name: instance, Labels: { 'berth.instance': instance } });
  const rootSecret = hex(24);
  const rpcSecret = hex(32);
  const image = kind === 'garage' ? await ensureGarageImage(api, () => undefined) : await ensureMinioImage(api, () => undefined);
  const { ip } = await ensureServiceContainer(api, names, pathsFor(root), 's3', image, rootSecret, () => undefined,
    kind === 'minio' ? { minio: { rootUser: 'berth-admin' } } : { garage: { rpcSecret } });
  return {
    ip, instance, rootSecret, rpcSecret,
    s3: `http://${ip}:${SERVICE_PORTS.s3}`,
    admin: kind === 'garage' ? `http://${ip}:${GARAGE_ADMIN_PORT}` : `http://${ip}:${SERVICE_PORTS.s3}`,
    async stop() {
      await docker.getContainer(serviceContainerName(names, 's3')).remove({ force: true });
      await docker.getNetwork(instance).remove();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
