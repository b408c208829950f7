// The runtime contract (src/runtime/contract.ts) on Docker Engine: the same suite the in-memory
// fake passes, so the engine's unit tests on the fake say true things about Docker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSampleImage, sampleIsCurrent } from '../../src/bootstrap/sample.js';
import { runtimeContract, SITE_DIR, SITE_FILES, SITE_LINKS } from '../../src/runtime/contract.js';
import { servicesContract } from '../../src/runtime/services-contract.js';
import { buildScratchImage, imageExists } from '../../src/runtime/docker/images.js';
import { DockerRuntime } from '../../src/runtime/docker/driver.js';
import { EngineApi } from '../../src/runtime/docker/engine-api.js';
import { appNetworkName, cronRunName, namesFor, processContainer } from '../../src/runtime/docker/specs.js';
import { pathsFor } from '../../src/state/paths.js';
import { docker, SAMPLE, until } from '../helpers/platform.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

runtimeContract('docker runtime', async () => {
  const api = new EngineApi();
  if (!(await sampleIsCurrent(api, SAMPLE))) await buildSampleImage(api, SAMPLE, () => undefined);
  // tagged by its content: a changed SITE builds anew
  const siteImage = `berth-test/site:${createHash('sha256').update(JSON.stringify([SITE_DIR, SITE_FILES, SITE_LINKS])).digest('hex').slice(0, 12)}`;
  if (!(await imageExists(api, siteImage))) {
    await buildScratchImage(api, {
      tag: siteImage, programs: [], dockerfileTail: [],
      files: Object.entries(SITE_FILES).map(([p, content]) => ({ content, to: `${SITE_DIR}/${p}` })),
      symlinks: Object.entries(SITE_LINKS).map(([p, target]) => ({ path: `${SITE_DIR}/${p}`, target })),
    }, () => undefined);
  }
  const instance = `rt${Math.random().toString(36).slice(2, 8)}`;
  const root = mkdtempSync(join(tmpdir(), 'berth-rt-'));
  const rt = new DockerRuntime(api, namesFor(instance), pathsFor(root));
  await rt.ensureNetwork();
  let registry: TestRegistry | undefined;
  return {
    rt, app: 'contract', image: SAMPLE,
    exit3: ['/usr/bin/node', '-e', 'console.log("boom"); process.exit(3)'],
    sleep: (ms) => ['/usr/bin/node', '-e', `setTimeout(() => {}, ${ms})`],
    talk: ['/usr/bin/node', '-e', 'console.log("one"); setTimeout(() => { console.log("two"); process.exit(3); }, 1000)'],
    cat: ['/usr/bin/node', '-e', 'process.stdin.pipe(process.stdout)'],
    hog: ['/usr/bin/node', '-e', 'const a = []; setInterval(() => a.push(Buffer.alloc(4e6, 1)), 1)'],
    stubborn: ['/usr/bin/node', '-e', 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)'],
    unpullable: 'localhost:1/berth-none:x', siteImage,
    registry: async () => {
      registry ??= await startRegistry();
      return { serveraddress: registry.address, username: registry.user, password: registry.password };
    },
    crash: async (u) => {
      const c = docker.getContainer(u.id);
      await c.update({ RestartPolicy: { Name: 'no' } });
      await c.kill();
    },
    close: async () => { registry?.stop(); await removeInstance(instance, root); },
  };
});

// The services' contract on Docker: Redis in berth's own build, tasks in berth's PostgreSQL image (busybox).
servicesContract('docker services', async () => {
  const instance = `sv${Math.random().toString(36).slice(2, 8)}`;
  const root = mkdtempSync(join(tmpdir(), 'berth-sv-'));
  const rt = new DockerRuntime(new EngineApi(), namesFor(instance), pathsFor(root));
  await rt.ensureNetwork();
  return {
    rt, app: 'contract', taskImage: 'postgres',
    cat: (path) => ['busybox', 'cat', path], env: ['busybox', 'env'], cp: (from, to) => ['busybox', 'cp', from, to],
    stop: async (s) => { await docker.getContainer(rt.services.logsRef(s).name).stop(); },
    onNetwork: async (app, s) => {
      const net = await docker.getNetwork(appNetworkName(namesFor(instance), app)).inspect() as { Containers?: Record<string, { Name: string }> };
      return Object.values(net.Containers ?? {}).some((c) => c.Name === rt.services.logsRef(s).name);
    },
    close: () => removeInstance(instance, root),
  };
});

// A daemon killed between a cron run's create and its start leaves a container that never ran:
// Docker's wait answers such a one at once with exit 0, and an empty log. Its waiter must run it.
test('docker runtime: a one-off created but never started is started by its waiter, not taken for a success', async () => {
  const api = new EngineApi();
  await withRuntime(api, async (rt, names) => {
    const spec = { app: 'pending', release: 'v1', process: 'web', image: SAMPLE, env: {}, port: 8000 };
    await rt.networks.ensureApp({ app: spec.app, services: [] });
    const cmd = ['/usr/bin/node', '-e', 'console.log("ran"); process.exit(3)'];
    const name = cronRunName(names, spec.app, '41');
    const body = processContainer(names, spec, { oneOff: { role: 'cron', key: '41' }, cmd });
    await api.json('POST', '/containers/create', 'create', { query: { name }, body });
    const [left] = await rt.listOneOffs('cron');
    assert.equal(left?.running, false);
    const r = await rt.waitOneOff(left!, { timeoutMs: 30_000 });
    assert.deepEqual([r.exitCode, r.output], [3, 'ran\n']);
  });
});

test('docker runtime: removing a unit whose removal is already under way waits for it, not an error (a cold rollback racing the warm stop)', async () => {
  await withRuntime(new EngineApi(), async (rt) => {
    const spec = { app: 'twice', release: 'v1', process: 'web', image: SAMPLE, env: {}, port: 8000 };
    await rt.networks.ensureApp({ app: spec.app, services: [] });
    // a process that ignores SIGTERM: its forced removal takes a moment, long enough for a second one to meet it
    const unit = await rt.start({ ...spec, cmd: ['/usr/bin/node', '-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'] });
    const results = await Promise.allSettled([rt.remove(unit), rt.remove(unit), rt.remove(unit)]);
    assert.deepEqual(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')), ['ok', 'ok', 'ok']);
    assert.equal((await docker.listContainers({ all: true, filters: { id: [unit.id] } })).length, 0);
  });
});

// CI (deploy-races, round 4 of a crash-looping release): the release serving was running when
// the switch looked, and dying by the time of its rename. Docker refuses to rename a restarting
// container ("sandbox ... not found"). The rename is intercepted here to make it die right then.
class DiesBeforeItsRename extends EngineApi {
  victim: string | null = null;
  override async buffer(method: string, path: string, what: string, o?: Parameters<EngineApi['buffer']>[3]): Promise<Buffer> {
    if (this.victim && method === 'POST' && path === `/containers/${this.victim}/rename`) {
      const c = docker.getContainer(this.victim);
      this.victim = null;
      const exec = await c.exec({ Cmd: ['/usr/bin/node', '-e', 'require("fs").writeFileSync("/tmp/die", "")'] });
      await exec.start({ Detach: true });
      await until(async () => (await c.inspect()).State.Restarting, 10_000, 'the serving release to be restarting');
    }
    return super.buffer(method, path, what, o);
  }
}

test('docker runtime: the serving release dies just before the switch renames it: the switch still succeeds', async () => {
  const api = new DiesBeforeItsRename();
  await withRuntime(api, async (rt) => {
    const spec = { app: 'dying', process: 'web', image: SAMPLE, env: {}, port: 8000 };
    const dies = 'setInterval(() => { if (require("fs").existsSync("/tmp/die")) process.exit(1); }, 20)';
    const v1 = await rt.start({ ...spec, release: 'v1', cmd: ['/usr/bin/node', '-e', dies] });
    await rt.activate(v1);
    const v2 = await rt.start({ ...spec, release: 'v2' });
    api.victim = v1.id;
    await rt.activate(v2);
    assert.equal(api.victim, null, 'the rename was intercepted');
    assert.deepEqual((await rt.list('dying')).filter((u) => u.serving).map((u) => u.release), ['v2']);
    assert.equal((await rt.inspect('dying', 'web', 'v1'))?.running, false, 'the release that died stays down');
  });
});

/** A runtime of its own instance (its network made), removed with all it ran afterwards. */
async function withRuntime(api: EngineApi, fn: (rt: DockerRuntime, names: ReturnType<typeof namesFor>) => Promise<void>): Promise<void> {
  const instance = `rt${Math.random().toString(36).slice(2, 8)}`;
  const root = mkdtempSync(join(tmpdir(), 'berth-rt-'));
  const names = namesFor(instance);
  const rt = new DockerRuntime(api, names, pathsFor(root));
  try {
    await rt.ensureNetwork();
    await fn(rt, names);
  } finally {
    await removeInstance(instance, root);
  }
}

async function removeGone(id: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const e = await docker.getContainer(id).remove({ force: true }).then(() => null, (x: { statusCode?: number }) => x);
    if (!e || e.statusCode === 404) return;
    if (e.statusCode !== 409) throw e;
    await new Promise((r) => setTimeout(r, 100)); // "removal already in progress": wait until it is gone
  }
  throw new Error(`container ${id} still there after 30 s`);
}

async function removeInstance(instance: string, root: string): Promise<void> {
  const cs = await docker.listContainers({ all: true, filters: { label: [`berth.instance=${instance}`] } });
  // a one-off's own cleanup may be removing it at the same moment: gone is what we want
  await Promise.all(cs.map((c) => removeGone(c.Id)));
  // the platform's network and the app's own (a leftover would hold a subnet of the pool)
  const nets = await docker.listNetworks({ filters: { label: [`berth.instance=${instance}`] } });
  await Promise.all(nets.map((n) => docker.getNetwork(n.Id).remove()));
  await docker.getNetwork(instance).remove().catch((e: { statusCode?: number }) => { if (e.statusCode !== 404) throw e; });
  rmSync(root, { recursive: true, force: true });
}
