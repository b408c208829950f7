// A separate S3 protocol server for tests (s3rver in berth's own S3 image, in its own container
// and network), published on the platform network's gateway: reachable from this host and from
// app containers, standing in for an S3 service outside berth.
import assert from 'node:assert/strict';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { S3_IMAGE, S3_PORT, S3RVER_ACCESS_KEY } from '../../src/runtime/docker/service-images.js';
import { docker, type Platform, until } from './platform.js';

export const s3Client = (endpoint: string, accessKeyId: string, secretAccessKey: string) => new S3Client({
  endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey },
  requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
});

export class S3Server {
  readonly port = 40000 + Math.floor(Math.random() * 5000);
  gateway = '';
  constructor(readonly p: Platform) {}
  get name() { return `${this.p.instance}-s3vm`; }
  get endpoint() { return `http://${this.gateway}:${this.port}`; }

  /** Starts it (the platform must be up: its network's gateway is where it is published). */
  async start(): Promise<void> {
    const net = await docker.getNetwork(this.p.instance).inspect();
    this.gateway = net.IPAM?.Config?.[0]?.Gateway ?? '';
    assert.ok(this.gateway, 'the platform network has no gateway');
    await docker.createNetwork({ Name: this.name, Labels: { 'berth.instance': this.p.instance } });
    const c = await docker.createContainer({
      name: this.name, Image: S3_IMAGE, Labels: { 'berth.instance': this.p.instance, 'berth.role': 'test-s3-vm' },
      HostConfig: { NetworkMode: this.name, PortBindings: { [`${S3_PORT}/tcp`]: [{ HostIp: this.gateway, HostPort: String(this.port) }] } },
    });
    await c.start();
    await until(() => this.buckets().then(() => true, () => false), 60_000, 'the external S3 server to answer');
  }

  async buckets(): Promise<string[]> {
    return ((await s3Client(this.endpoint, S3RVER_ACCESS_KEY, 'x').send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name!);
  }

  async stop(): Promise<void> {
    await docker.getContainer(this.name).remove({ force: true }).catch(() => undefined);
    await docker.getNetwork(this.name).remove().catch(() => undefined);
  }
}
