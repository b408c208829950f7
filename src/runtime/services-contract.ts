// The behaviour every runtime's shared services (Runtime.services) must show, as one suite: run
// against the in-memory fake (unit tier, src/runtime/fake.test.ts) and against Docker Engine
// (test/integration/docker-runtime.test.ts). Redis stands for every service: the rules are the
// same for each and it is the one that starts fastest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceName } from '../state/settings.js';
import { SERVICE_PORTS } from '../state/service-ports.js';
import { type Runtime, type ServiceRun, type TaskImage, TASK_OUTPUT_DIR, TASK_SECRETS_DIR } from './types.js';

export interface ServicesHarness {
  rt: Runtime;
  /** A fresh app name. */
  app: string;
  /** The image tasks run in, and its commands: print a file, print the env, copy a file. */
  taskImage: TaskImage;
  cat: (path: string) => string[];
  env: string[];
  cp: (from: string, to: string) => string[];
  /** Ends the service's process and leaves its container (docker stop). */
  stop(s: ServiceName): Promise<void>;
  /** Whether the shared service's container is on the app's network now. */
  onNetwork(app: string, s: ServiceName): Promise<boolean>;
  close(): Promise<void>;
}

const noProgress = () => undefined;
const redis = (maxmemoryMb = 32): ServiceRun => ({
  service: 'redis', adminPassword: 'contract-admin-pw', redis: { maxmemoryMb, policy: 'noeviction', floorMb: 64 },
});

export function servicesContract(name: string, make: () => Promise<ServicesHarness>): void {
  const withHarness = (title: string, fn: (h: ServicesHarness) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const h = await make();
      try {
        await fn(h);
      } finally {
        await h.close();
      }
    });

  withHarness('a service comes up once: created, then ok at the same address; it runs, logs, and apps reach it by name', async (h) => {
    const s = h.rt.services;
    assert.equal(await s.address('redis'), null);
    assert.equal(await s.state('redis'), null);
    const first = await s.ensure(redis(), noProgress);
    assert.equal(first.result, 'created');
    assert.match(first.address, /^\d+\.\d+\.\d+\.\d+$/);
    assert.deepEqual(await s.ensure(redis(), noProgress), { result: 'ok', address: first.address });
    assert.equal(await s.address('redis'), first.address);
    assert.equal((await s.state('redis'))?.state, 'running');
    const at = s.endpoint('redis');
    assert.equal(at.port, SERVICE_PORTS.redis);
    assert.doesNotMatch(at.host, /^\d/, 'a name that survives a new address');
    assert.equal(await s.address('postgres'), null, 'the others do not come up with it');
    assert.equal(typeof (await h.rt.logs(s.logsRef('redis'), 20)), 'string');
  });

  withHarness('a changed spec replaces the container and says so; a stopped one is started again', async (h) => {
    const s = h.rt.services;
    await s.ensure(redis(32), noProgress);
    const lines: string[] = [];
    assert.equal((await s.ensure(redis(48), (l) => lines.push(l))).result, 'recreated');
    assert.match(lines.join('\n'), /redis: its container spec changed.*replacing .*data is kept/);
    await h.stop('redis');
    assert.equal(await s.address('redis'), null, 'not running: no address');
    assert.notEqual((await s.state('redis'))?.state, 'running');
    const again = await s.ensure(redis(48), noProgress);
    assert.equal(again.result, 'started');
    assert.equal(await s.address('redis'), again.address);
  });

  withHarness('remove keeps the data and may be repeated; purge takes the container and the data, and says what went', async (h) => {
    const s = h.rt.services;
    await s.ensure(redis(), noProgress);
    const dir = s.dataDir('redis');
    assert.ok(existsSync(dir), `${dir}: made by ensure`);
    await s.remove('redis');
    await s.remove('redis'); // gone already: not an error
    assert.equal(await s.state('redis'), null);
    assert.ok(existsSync(dir), 'remove keeps the data');
    assert.equal((await s.ensure(redis(), noProgress)).result, 'created');
    assert.deepEqual(await s.purge('redis'), [`container ${s.logsRef('redis').name}`, dir]);
    assert.ok(!existsSync(dir));
    assert.equal(await s.state('redis'), null);
    assert.deepEqual(await s.purge('redis'), [], 'nothing left to purge');
  });

  withHarness('a shared service is on the networks of the apps that use it and no other; made anew, it is back on theirs at once', async (h) => {
    const s = h.rt.services;
    const [user, other] = [h.app, `${h.app}-other`];
    await s.ensure(redis(), noProgress);
    await h.rt.ensureAppNetwork({ app: user, services: ['redis'] });
    await h.rt.ensureAppNetwork({ app: other, services: [] });
    assert.deepEqual([await h.onNetwork(user, 'redis'), await h.onNetwork(other, 'redis')], [true, false]);
    // a changed spec makes the container anew: on its users' networks before ensure returns
    assert.equal((await s.ensure({ ...redis(48), apps: [user] }, noProgress)).result, 'recreated');
    assert.deepEqual([await h.onNetwork(user, 'redis'), await h.onNetwork(other, 'redis')], [true, false]);
    // the reconcile: an app that does not use it any more loses it, one that now does gets it
    await h.rt.isolate([{ app: user, services: [] }, { app: other, services: ['redis'] }]);
    assert.deepEqual([await h.onNetwork(user, 'redis'), await h.onNetwork(other, 'redis')], [false, true]);
    for (const app of [user, other]) await h.rt.removeAppNetwork(app);
  });

  withHarness('an app\'s own Redis: a name of its own, up once, removed with or without its data, the shared one untouched', async (h) => {
    const own = h.rt.services.dedicatedRedis;
    await h.rt.ensureAppNetwork({ app: h.app, services: [] });
    const memory = { maxmemoryMb: 16, policy: 'noeviction', floorMb: 32 };
    const first = await own.ensure(h.app, 'contract-admin-pw', memory, noProgress);
    assert.equal(first.result, 'created');
    assert.equal(await own.address(h.app), first.address);
    assert.equal((await own.ensure(h.app, 'contract-admin-pw', memory, noProgress)).result, 'ok');
    assert.notEqual(own.endpoint(h.app).host, h.rt.services.endpoint('redis').host);
    assert.equal(own.endpoint(h.app).port, SERVICE_PORTS.redis);
    assert.equal(await h.rt.services.address('redis'), null, 'the shared Redis does not come up with it');
    assert.equal(await own.address(`${h.app}x`), null);
    await own.remove(h.app, { data: false });
    await own.remove(h.app, { data: false }); // gone already: not an error
    assert.equal(await own.address(h.app), null);
    assert.equal((await own.ensure(h.app, 'contract-admin-pw', memory, noProgress)).result, 'created');
    await own.remove(h.app, { data: true });
    assert.equal(await own.address(h.app), null);
  });

  withHarness('a task reads its secrets from files, never from its env, writes to the output directory, and ends with its exit code', async (h) => {
    const out = mkdtempSync(join(tmpdir(), 'berth-task-out-'));
    try {
      const base = { name: `${h.app}-task`, env: { PLAIN: 'visible' }, secretFiles: { token: 'task-secret-42' }, outputDir: out };
      const run = (cmd: string[]) => h.rt.services.task(h.taskImage, { ...base, cmd }, { timeoutMs: 60_000 });
      assert.deepEqual(await run(h.cat(`${TASK_SECRETS_DIR}/token`)), { exitCode: 0, output: 'task-secret-42' });
      const env = await run(h.env);
      assert.equal(env.exitCode, 0);
      assert.match(env.output, /^PLAIN=visible$/m);
      assert.ok(!env.output.includes('task-secret-42'), `the secret is in the env: ${env.output}`);
      assert.equal((await run(h.cp(`${TASK_SECRETS_DIR}/token`, `${TASK_OUTPUT_DIR}/copied`))).exitCode, 0);
      assert.equal(readFileSync(join(out, 'copied'), 'utf8'), 'task-secret-42');
      const missing = await run(h.cat(`${TASK_SECRETS_DIR}/none`));
      assert.notEqual(missing.exitCode, 0);
      assert.match(missing.output, /none/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}
