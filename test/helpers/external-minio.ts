// A real MinIO server (built from source, berth's local image) outside berth: its own container
// and network, published on the platform network's gateway so that this host and app containers
// both reach it, standing in for an S3 service on another machine.
import assert from 'node:assert/strict';
import { EngineApi } from '../../src/runtime/docker/engine-api.js';
import { ensureMinioImage } from '../../src/runtime/docker/object-store-images.js';
import { MinioStore } from '../../src/provisioning/object-store/minio.js';
import { docker, type Platform, until } from './platform.js';
import { hostAddressOn } from './gateway.js';

export class ExternalMinio {
  readonly port = 40000 + Math.floor(Math.random() * 5000);
  readonly rootUser = 'minio-root';
  readonly rootSecret = `root-${Math.random().toString(36).slice(2)}`;
  gateway = '';
  /** on 'bridge': published on Docker's default bridge instead, which outlives the platform's network (a disaster-recovery test wipes that) */
  constructor(readonly p: Platform, readonly on: 'platform' | 'bridge' = 'platform') {}
  get name() { return `${this.p.instance}-s3vm`; }
  get endpoint() { return `http://${this.gateway}:${this.port}`; }
  get admin() { return { endpoint: this.endpoint, region: 'us-east-1', accessKey: this.rootUser, secretKey: this.rootSecret }; }

  /** Starts it (the platform must be up: its network's gateway is where it is published). */
  async start(): Promise<void> {
    const image = await ensureMinioImage(new EngineApi(), () => undefined);
    const network = this.on === 'bridge' ? 'bridge' : this.p.instance;
    this.gateway = await hostAddressOn(network);
    assert.ok(this.gateway, `network ${network} has no gateway`);
    await docker.createNetwork({ Name: this.name, Labels: { 'berth.test-of': this.p.instance } });
    const c = await docker.createContainer({
      name: this.name, Image: image, Cmd: ['server', '/data'], Labels: { 'berth.test-of': this.p.instance, 'berth.role': 'test-s3-vm' },
      // a test server's root credentials in its env: this container stands for someone else's machine
      Env: [`MINIO_ROOT_USER=${this.rootUser}`, `MINIO_ROOT_PASSWORD=${this.rootSecret}`, 'MINIO_BROWSER=off'],
      HostConfig: { NetworkMode: this.name, PortBindings: { '9000/tcp': [{ HostIp: this.gateway, HostPort: String(this.port) }] } },
    });
    await c.start();
    await until(() => new MinioStore(this.admin).check().then(() => true), 60_000, 'the external MinIO to answer');
  }

  async stop(): Promise<void> {
    await docker.getContainer(this.name).remove({ force: true }).catch(() => undefined);
    await docker.getNetwork(this.name).remove().catch(() => undefined);
  }
}
