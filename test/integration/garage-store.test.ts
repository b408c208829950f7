// The ObjectStore contract against a real Garage 2.3 (berth's local build, started as berth starts
// it), plus what is Garage's own: the single-node layout, and berth's admin token being scoped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GARAGE_BERTH_SCOPE, garageCall, GarageStore } from '../../src/provisioning/object-store/garage.js';
import { setupGarage } from '../../src/provisioning/object-store/garage-setup.js';
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

objectStoreContract('Garage', () => ({ store, s3: server.s3 }));
