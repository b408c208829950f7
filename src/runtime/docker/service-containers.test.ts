import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceContainerSpec } from './service-containers.js';
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
  const minio = serviceContainerSpec(n, p, 's3', 'minio/minio:RELEASE.x', 'root-secret', { rootUser: 'berth-admin' });
  assert.deepEqual(minio.Cmd, ['server', '/data', '--address', ':9000']);
  assert.deepEqual(minio.Env, ['MINIO_ROOT_USER_FILE=/run/secrets/berth/root_user', 'MINIO_ROOT_PASSWORD_FILE=/run/secrets/berth/root_password', 'MINIO_BROWSER=off']);
  assert.ok(!JSON.stringify(minio).includes('root-secret'));
  assert.deepEqual(minio.Healthcheck.Test, ['CMD', 'mc', 'ready', 'local']);
  assert.deepEqual(minio.HostConfig.Binds, ['/srv/berth/services/s3:/data', '/srv/berth/services/s3-secrets:/run/secrets/berth:ro']);
  const s3rver = serviceContainerSpec(n, p, 's3', 'berth/s3:debian', 'S3RVER');
  assert.equal('Cmd' in s3rver, false);
  assert.deepEqual(s3rver.Env, []);
  // a changed secret alone does not make the spec drift (no needless restart)
  assert.equal(serviceContainerSpec(n, p, 's3', 'minio/minio:RELEASE.x', 'other', { rootUser: 'berth-admin' }).Labels['berth.spec'], minio.Labels['berth.spec']);
});
