// The ObjectStore contract against a real Garage 2.3 (berth's local build, started as berth starts
// it), plus what is Garage's own: the single-node layout, and berth's admin token being scoped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GARAGE_BERTH_SCOPE, garageCall, GarageStore } from '../../src/provisioning/object-store/garage.js';
import { setupGarage } from '../../src/provisioning/object-store/garage-setup.js';
import { applyGrant, dropGrant } from '../../src/provisioning/object-store/index.js';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../helpers/s3-client.js';
import { startStore, type StoreServer } from '../helpers/object-store-server.js';
import { until } from '../helpers/platform.js';
import { objectStoreContract } from './object-store-contract.js';

let server: StoreServer;
let store: GarageStore;
let token = '';

before(async () => {
  server = await startStore('garage');
  token = await until(() => setupGarage(server.admin, server.rootSecret, null).catch(() => false), 60_000, 'Garage to take its layout') as string;
  store = new GarageStore({ admin: server.admin, token, s3: server.s3 });
  await until(() => store.check().then(() => true), 30_000, 'Garage to be healthy');
});
after(() => server?.stop());

test('Garage: setup is idempotent and keeps a token that still works; berth\'s token is limited to the calls berth makes', async () => {
  assert.equal(await setupGarage(server.admin, server.rootSecret, token), null);
  const info = await garageCall<{ scope: string[] }>(server.admin, token, 'GetCurrentAdminTokenInfo');
  assert.deepEqual([...info.scope].sort(), [...GARAGE_BERTH_SCOPE].sort());
  for (const call of ['CreateAdminToken', 'ListAdminTokens', 'UpdateClusterLayout', 'ListKeys']) {
    const o = call === 'ListKeys' || call === 'ListAdminTokens' ? {} : { body: {} };
    await assert.rejects(garageCall(server.admin, token, call, o), /403|Forbidden|scope/i, call);
  }
  await assert.rejects(garageCall(server.admin, 'not-a-token', 'GetClusterHealth'), /AccessDenied|Forbidden/);
  // apps reach the admin port too: without a token it serves nothing but /health
  assert.notEqual((await fetch(`${server.admin}/metrics`)).status, 200);
  assert.notEqual((await fetch(`${server.admin}/v2/ListBuckets`)).status, 200);
});

test('Garage: a key deleted behind berth\'s back is refused by name; a rotation replaces it (the lost old key is skipped)', async () => {
  const lost = { accessKey: 'app-lost-0a0b0c', secretKey: 'lost-secret-lost-secret' };
  const fresh = { accessKey: 'app-lost-1a1b1c', secretKey: 'fresh-secret-fresh-secret' };
  await applyGrant(store, { bucket: 'app-lost', ...lost, region: 'garage', keys: [lost] });
  await store.revokeKey('app-lost', lost.accessKey); // as an operator would with Garage's own CLI
  await assert.rejects(applyGrant(store, { bucket: 'app-lost', ...lost, region: 'garage', keys: [lost] }), /app-lost-0a0b0c .*berth apps rotate lost --s3/);
  await applyGrant(store, { bucket: 'app-lost', ...fresh, region: 'garage', keys: [lost, fresh] }); // what apps rotate applies
  const c = s3Client(server.s3, fresh.accessKey, fresh.secretKey, 'garage');
  await until(() => c.send(new PutObjectCommand({ Bucket: 'app-lost', Key: 'x', Body: 'y' })).then(() => true, () => false), 10_000, 'the new key to work');
  await dropGrant(store, { bucket: 'app-lost', ...fresh, region: 'garage', keys: [fresh], revoked: [lost.accessKey] });
});

objectStoreContract('Garage', () => ({ store, s3: server.s3 }));
