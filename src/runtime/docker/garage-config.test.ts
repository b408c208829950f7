import { test } from 'node:test';
import assert from 'node:assert/strict';
import { garageConfig, serviceContainerSpec } from './service-containers.js';
import { namesFor } from './specs.js';
import { pathsFor } from '../../state/paths.js';

test('Garage runs one node: RPC on loopback, S3 on berth\'s port, secrets only as files, as uid 999', () => {
  const c = garageConfig();
  assert.match(c, /replication_factor = 1/);
  assert.match(c, /rpc_bind_addr = "127\.0\.0\.1:3901"/);
  assert.match(c, /api_bind_addr = "0\.0\.0\.0:9000"/);
  assert.match(c, /s3_region = "garage"/);
  assert.match(c, /rpc_secret_file = .*\nadmin_token_file|admin_token_file = "\/run\/secrets\/berth\/admin_token"/);
  assert.doesNotMatch(c, /rpc_secret =|admin_token =/);
  assert.match(c, /metrics_require_token = true/);
  const spec = serviceContainerSpec(namesFor('berth'), pathsFor('/data/berth'), 's3', 'berth/garage:2.3.0-local', 'root-token',
    { garage: { rpcSecret: 'r'.repeat(64) } });
  assert.deepEqual(spec.Env, []);
  assert.equal(spec.User, '999:999');
  assert.deepEqual([...spec.Entrypoint!, ...spec.Cmd!], ['/garage', '-c', '/run/secrets/berth/garage.toml', 'server']);
  assert.deepEqual(spec.HostConfig.Binds, ['/data/berth/services/s3:/data', '/data/berth/services/s3-secrets:/run/secrets/berth:ro']);
  assert.ok(!JSON.stringify(spec).includes('root-token') && !JSON.stringify(spec).includes('r'.repeat(64)));
});
