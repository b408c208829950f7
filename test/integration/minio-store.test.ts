// The ObjectStore contract against a real MinIO built from source (github.com/minio/minio,
// 2026-02-12): berth's MinIO admin client, its SigV4 signing and its encrypted request bodies
// (madmin's sio-go format, see docs/minio-admin.md) meet the real server here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MinioStore } from '../../src/provisioning/object-store/minio.js';
import { addUser } from '../../src/provisioning/minio/admin.js';
import { startStore, type StoreServer } from '../helpers/object-store-server.js';
import { until } from '../helpers/platform.js';
import { objectStoreContract } from './object-store-contract.js';

let server: StoreServer;
let store: MinioStore;
const admin = () => ({ endpoint: server.s3, region: 'us-east-1', accessKey: 'berth-admin', secretKey: server.rootSecret });

before(async () => {
  server = await startStore('minio');
  store = new MinioStore(admin());
  await until(() => store.check().then(() => true), 60_000, 'MinIO to answer');
});
after(() => server?.stop());

test('MinIO: a user made through an encrypted body signs in with exactly the secret berth sent', async () => {
  await store.ensureBucket('app-enc');
  await addUser(admin(), 'app-enc-000000', 'secret-sent-encrypted');
  const r = await fetch(`${server.s3}/minio/admin/v3/info`, { method: 'GET' });
  assert.equal(r.status, 403, 'the admin API answers unsigned requests');
  await store.revokeKey('app-enc', 'app-enc-000000');
});

objectStoreContract('MinIO', () => ({ store, s3: server.s3 }));
