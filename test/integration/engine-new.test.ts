// A newer Docker Engine (Debian sid's docker.io 28.5.2, refusing API versions below 1.44 as
// Docker 29.0 does): a call pinned to v1.41 is refused, and berth's EngineApi negotiates and
// runs a release's whole life on it. The engine runs beside the machine's (test/helpers/engine28.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { BerthError } from '../../src/lib/errors.js';
import { buildScratchImage } from '../../src/runtime/docker/images.js';
import { DockerRuntime } from '../../src/runtime/docker/driver.js';
import { compareVersions, EngineApi } from '../../src/runtime/docker/engine-api.js';
import { appNetworkName, namesFor } from '../../src/runtime/docker/specs.js';
import { pathsFor } from '../../src/state/paths.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessSpec } from '../../src/runtime/types.js';
import { type Engine28, startEngine28 } from '../helpers/engine28.js';

const log = (l: string) => console.log(l);
let engine: Engine28;
let api: EngineApi;
const instance = `e28${Math.random().toString(36).slice(2, 8)}`;
const names = namesFor(instance);
const IMAGE = `berth-test/${instance}-sleep:1`;

/** A raw call, as berth made them before: the path pinned to one version. */
function pinned(socket: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, headers: { host: 'docker' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  engine = await startEngine28({ minApiVersion: '1.44', log });
  log(`${engine.version}, runc ${engine.runc}, log ${engine.logFile}`);
  api = new EngineApi(engine.socket);
}, { timeout: 15 * 60_000 });

after(async () => {
  if (!engine) return;
  await api.buffer('DELETE', `/networks/${names.network}`, 'remove network').catch((e: Error) => log(`cleanup: ${e.message}`));
  await engine.stop();
});

test('the newer engine refuses a call pinned to v1.41, and berth as it was (1.41 only) says why', async () => {
  const r = await pinned(engine.socket, '/v1.41/containers/json');
  assert.equal(r.status, 400);
  assert.match(r.body, /client version 1\.41 is too old\. Minimum supported API version is 1\.44/);
  await assert.rejects(new EngineApi(engine.socket, '1.41', '1.41').json('GET', '/containers/json', 'list containers'), (e: BerthError) => {
    assert.equal(e.code, 'unavailable');
    assert.match(e.message, /Docker Engine 28\.5\.2\S* accepts Engine API 1\.44 and newer only; berth speaks 1\.41 to 1\.41/);
    assert.match(e.hint ?? '', /DOCKER_MIN_API_VERSION=1\.41/);
    return true;
  });
});

test('berth negotiates the newest version both speak and lists containers', async () => {
  const n = await api.negotiate();
  assert.equal(n.serverMin, '1.44');
  assert.equal(n.version, compareVersions(n.serverMax, '1.52') < 0 ? n.serverMax : '1.52');
  assert.deepEqual(await api.json('GET', '/containers/json', 'list containers', { query: { all: true } }), []);
  assert.match((await new DockerRuntime(api, names, pathsFor(mkdtempSync(join(tmpdir(), 'berth-e28-root-')))).ping()).engine, new RegExp(`API ${n.serverMax.replace('.', '\\.')}, berth speaks ${n.version}`));
});

test('a release\'s life on the newer engine: network, image build, start, inspect, switch, one-off, stop, remove', { timeout: 10 * 60_000 }, async () => {
  const rt = new DockerRuntime(api, names, pathsFor(mkdtempSync(join(tmpdir(), 'berth-e28-root-'))));
  await rt.ensureNetwork();
  await rt.ensureNetwork(); // found, not created again
  // the duplicate name is refused by the engine itself from API 1.44 on (no CheckDuplicate needed)
  await assert.rejects(api.json('POST', '/networks/create', 'create network', { body: { Name: names.network, Driver: 'bridge' } }),
    (e: BerthError & { statusCode?: number }) => e.statusCode === 409);

  // a tiny image built on that engine with the classic builder, as berth builds its own
  const lines: string[] = [];
  await buildScratchImage(api, {
    tag: IMAGE, programs: [{ from: '/bin/sleep', to: '/bin/sleep' }, { from: '/bin/echo', to: '/bin/echo' }],
    dockerfileTail: ['CMD ["/bin/sleep", "300"]'], labels: { 'berth.test': instance },
  }, (l) => lines.push(l));
  assert.ok(lines.some((l) => /^Step 1\/\d+ : FROM scratch/.test(l)), lines.join('\n'));
  const img = await rt.ensureImage(IMAGE, undefined, log); // present: no pull
  assert.match(img.id, /^sha256:/);
  const label = await api.json<{ Config?: { Labels?: Record<string, string> } }>('GET', `/images/${encodeURIComponent(IMAGE)}/json`, 'inspect image');
  assert.equal(label.Config?.Labels?.['berth.test'], instance);

  const spec: ProcessSpec = { app: 'hello', release: 'v1', process: 'web', image: IMAGE, env: { GREETING: 'hi' }, port: 8000 };
  const unit = await rt.start(spec);
  assert.equal(unit.running, true);
  assert.equal(unit.attached, true, 'an address on its app\'s network, from the container list');
  type Inspect = { Id: string; State: { Running: boolean; Status: string }; Config: { Image: string; Labels: Record<string, string> };
    NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
    HostConfig: { CpuShares: number; RestartPolicy: { Name: string }; Memory: number; PidsLimit: number; CapDrop: string[]; SecurityOpt: string[] } };
  const info = await api.json<Inspect>('GET', `/containers/${unit.id}/json`, 'inspect');
  assert.equal(info.State.Running, true);
  assert.equal(info.State.Status, 'running');
  assert.equal(info.Config.Image, IMAGE);
  assert.equal(info.Config.Labels['berth.app'], 'hello');
  assert.deepEqual(Object.keys(info.NetworkSettings.Networks), [appNetworkName(names, 'hello')], 'on its own network only');
  assert.match(info.NetworkSettings.Networks[appNetworkName(names, 'hello')]?.IPAddress ?? '', /^10\.213\.\d+\.\d+$/);
  // the limits and privileges the newer engine took as sent
  assert.deepEqual([info.HostConfig.Memory, info.HostConfig.PidsLimit, info.HostConfig.CapDrop, info.HostConfig.SecurityOpt],
    [512 * 1024 * 1024, 256, ['ALL'], ['no-new-privileges:true']]);

  await rt.activate(unit);
  const serving = await api.json<Inspect>('GET', `/containers/${encodeURIComponent(rt.servingName('hello', 'web'))}/json`, 'inspect');
  assert.equal(serving.Id, unit.id);
  assert.equal(serving.HostConfig.CpuShares, 1024);
  assert.equal(serving.HostConfig.RestartPolicy.Name, 'unless-stopped');
  assert.deepEqual((await rt.list('hello')).map((u) => [u.name, u.serving, u.running]), [[rt.servingName('hello', 'web'), true, true]]);

  const once = await rt.runOnce(spec, ['/bin/echo', 'hello from the newer engine'], { timeoutMs: 60_000 });
  assert.deepEqual(once, { exitCode: 0, output: 'hello from the newer engine\n' });
  const failed = await rt.runOnce(spec, ['/bin/sleep', 'not-a-number'], { timeoutMs: 60_000 });
  assert.equal(failed.exitCode, 1);
  assert.match(failed.output, /invalid time interval/);

  await rt.stop(unit, 5000);
  const stopped = (await rt.list('hello'))[0]!;
  assert.equal(stopped.running, false);
  assert.equal(typeof stopped.exitCode, 'number');
  assert.ok(stopped.exitCode! >= 0, `exit code read from the list's Status text: ${stopped.exitCode}`);
  assert.match(await rt.logs(stopped, 10), /^$/);

  await rt.remove(stopped);
  assert.deepEqual(await rt.list(), []);
  assert.deepEqual((await rt.isolate([])).removed, ['hello'], 'its network goes once nothing of it is left');
  await rt.removeImage(IMAGE);
  assert.equal(await rt.imageInfo(IMAGE), null);
});
