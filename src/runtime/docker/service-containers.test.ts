import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisContainerMemory, serviceContainerSpec } from './service-containers.js';
import { pathsFor } from '../../state/paths.js';
import { namesFor } from './specs.js';

const n = namesFor('berth');
const p = pathsFor('/srv/berth');

test('no admin password shows in a service container\'s spec (docker inspect)', () => {
  for (const s of ['postgres', 'redis'] as const) {
    const spec = serviceContainerSpec(n, p, s, `img-${s}`, 'the-admin-secret');
    assert.ok(!JSON.stringify(spec).includes('the-admin-secret'), s);
  }
});

test('object storage runs MinIO with its root user when MinIO was chosen, else s3rver\'s own command', () => {
  const minio = serviceContainerSpec(n, p, 's3', 'minio/minio:RELEASE.x', 'root-secret', { minio: { rootUser: 'berth-admin' } });
  assert.deepEqual(minio.Cmd, ['server', '/data', '--address', ':9000']);
  assert.deepEqual(minio.Env, ['MINIO_ROOT_USER_FILE=/run/secrets/berth/root_user', 'MINIO_ROOT_PASSWORD_FILE=/run/secrets/berth/root_password', 'MINIO_BROWSER=off']);
  assert.ok(!JSON.stringify(minio).includes('root-secret'));
  assert.deepEqual(minio.Healthcheck.Test, ['CMD', 'mc', 'ready', 'local']);
  assert.deepEqual(minio.HostConfig.Binds, ['/srv/berth/services/s3:/data', '/srv/berth/services/s3-secrets:/run/secrets/berth:ro']);
  const s3rver = serviceContainerSpec(n, p, 's3', 'berth/s3:debian', 'S3RVER');
  assert.equal('Cmd' in s3rver, false);
  assert.deepEqual(s3rver.Env, []);
  // a changed secret alone does not make the spec drift (no needless restart)
  const again = serviceContainerSpec(n, p, 's3', 'minio/minio:RELEASE.x', 'other', { minio: { rootUser: 'berth-admin' } });
  assert.equal(again.Labels['berth.spec'], minio.Labels['berth.spec']);
});

test('Redis runs with its maxmemory and policy, and a container limit above it for everything else', () => {
  const spec = serviceContainerSpec(n, p, 'redis', 'berth/redis:7-debian', 'pw', { redis: { maxmemoryMb: 160, policy: 'volatile-lru' } });
  assert.deepEqual(spec.Cmd, ['redis-server', '--port', '6379', '--dir', '/data', '--appendonly', 'yes', '--aclfile', '/data/users.acl',
    '--maxmemory', '160mb', '--maxmemory-policy', 'volatile-lru']);
  assert.equal(spec.HostConfig.Memory, 256 * 1024 * 1024);
  assert.equal(redisContainerMemory({ maxmemoryMb: 1000, policy: 'noeviction' }), 1600 * 1024 * 1024);
  const other = serviceContainerSpec(n, p, 'redis', 'berth/redis:7-debian', 'pw', { redis: { maxmemoryMb: 200, policy: 'volatile-lru' } });
  assert.notEqual(other.Labels['berth.spec'], spec.Labels['berth.spec'], 'a new maxmemory must recreate the container');
});
