// `berth up`: bring the platform to its desired state, idempotently. Each step says what it
// found and what it did, so a second run reports "ok" everywhere and changes nothing.
import { existsSync, writeFileSync } from 'node:fs';
import { BerthError } from '../lib/errors.js';
import { Cipher } from '../lib/secrets.js';
import { fullConfig } from '../proxy/caddy/config.js';
import { DockerRuntime } from '../runtime/docker/driver.js';
import { demux, type EngineApi, isNotFound } from '../runtime/docker/engine-api.js';
import { DockerNetworks } from '../runtime/docker/networks.js';
import { namesFor } from '../runtime/docker/specs.js';
import { DaemonClient } from '../daemon/client.js';
import { buildId } from '../daemon/build.js';
import { ensureDaemon, stopDaemon } from './daemon-process.js';
import { ensureEngine, waitFor } from './engine.js';
import { caddyBase } from '../proxy/caddy/base.js';
import { ensureCaddyImage, proxyContainerName, proxyContainerSpec } from './proxy-container.js';
import { ensureLayout, type Paths, parseSettings, saveSettings, type Settings, storedSettings, upgradedSettings } from '../state/settings.js';
import { CaddyAdmin } from '../proxy/caddy/admin.js';
import { BUILDX_DEBIAN, ensureBuildx } from '../runtime/build/buildx-install.js';

export type UpStep = { step: string; result: string };

async function ensureProxy(api: EngineApi, p: Paths, s: Settings, progress: (l: string) => void): Promise<string> {
  const names = namesFor(s.instance);
  const image = await ensureCaddyImage(api, s, progress);
  if (!existsSync(p.caddyConfigFile)) {
    writeFileSync(p.caddyConfigFile, JSON.stringify(fullConfig(caddyBase(s), []), null, 1), { mode: 0o600 });
  }
  const spec = proxyContainerSpec(names, s, p, image);
  const name = proxyContainerName(names);
  type Inspect = { Config: { Labels: Record<string, string>; Image: string }; State: { Running: boolean } };
  const info = await api.json<Inspect>('GET', `/containers/${name}/json`, `inspect ${name}`).catch((e) => { if (isNotFound(e)) return null; throw e; });
  let result = 'ok';
  const drifted = info !== null && info.Config.Labels['berth.spec'] !== spec.Labels['berth.spec'];
  const upgraded = info !== null && info.Config.Image !== image;
  if (drifted) {
    // Certificates, the ACME account and the config live in <root>/caddy, mounted into the new
    // container; only the port is free for a moment while one container replaces the other.
    progress(upgraded
      ? `upgrading the proxy: ${info.Config.Image} -> ${image} ` +
        `(certificates, ACME account and routes are kept in ${p.caddyDataDir}); requests wait or fail for about a second`
      : 'proxy settings changed: recreating the proxy container');
    await api.buffer('DELETE', `/containers/${name}`, `remove ${name}`, { query: { force: true } });
  }
  if (!info || drifted) {
    await api.json('POST', '/containers/create', `create ${name}`, { query: { name }, body: spec });
    await new DockerNetworks(api, names).attachToApps(name, 'every'); // every app's network before it serves
    await api.buffer('POST', `/containers/${name}/start`, `start ${name}`);
    result = !info ? 'created' : upgraded ? `upgraded from ${info.Config.Image} to ${image}` : 'recreated';
  } else if (!info.State.Running) {
    await api.buffer('POST', `/containers/${name}/start`, `start ${name}`);
    result = 'started';
  }
  const admin = new CaddyAdmin(p.caddyAdminSocket);
  if (!(await waitFor(() => admin.call('GET', '/config/').then((r) => r.status === 200, () => false), 20_000))) {
    const logs = demux(await api.buffer('GET', `/containers/${name}/logs`, `logs ${name}`, { query: { stdout: true, stderr: true, tail: 20 } }));
    throw new BerthError('unavailable', `the proxy did not start: ${logs.slice(-800)}`);
  }
  return result;
}

/** docker-buildx for builds from source (BuildKit); without it builds use the engine's classic builder. */
async function builderStep(progress: (l: string) => void): Promise<string> {
  if (process.env.BERTH_BUILDX === 'none') return "builds use the engine's classic builder (BERTH_BUILDX=none)";
  try {
    const b = await ensureBuildx(progress);
    progress(`  builds use BuildKit through ${b.version} (${b.path})`);
    return b.fetched ? `fetched docker-buildx from Debian ${BUILDX_DEBIAN.suite}` : 'ok';
  } catch (e) {
    if (!(e instanceof BerthError) || (e.code !== 'unavailable' && e.code !== 'command_failed')) throw e;
    progress(`  docker-buildx: ${e.message}`);
    return "builds use the engine's classic builder (no docker-buildx)";
  }
}

export interface UpOptions { settings?: Partial<Settings>; progress: (l: string) => void; api: EngineApi; daemonEnv?: NodeJS.ProcessEnv }

export async function up(p: Paths, o: UpOptions): Promise<{ steps: UpStep[]; settings: Settings }> {
  const steps: UpStep[] = [];
  const step = async (name: string, fn: () => Promise<string> | string) => {
    o.progress(`… ${name}`);
    const result = await fn();
    steps.push({ step: name, result });
    o.progress(`✓ ${name}: ${result}`);
  };
  let settings!: Settings;
  let settingsChanged = false;
  await step('data root', () => {
    const existed = existsSync(p.settings);
    ensureLayout(p);
    const stored = storedSettings(p);
    const upgraded = upgradedSettings(stored);
    upgraded.notes.forEach((n) => o.progress(`  upgrading a setting: ${n}`));
    const before = parseSettings(stored);
    settings = parseSettings({ ...upgraded.raw, ...Object.fromEntries(Object.entries(o.settings ?? {}).filter(([, v]) => v !== undefined)) });
    const changed = JSON.stringify(before) !== JSON.stringify(settings);
    settingsChanged = existed && changed;
    if (!existed || changed) saveSettings(p, settings);
    Cipher.fromKeyFile(p.keyFile);
    return !existed ? `created ${p.root}` : changed ? 'settings updated' : 'ok';
  });
  await step('docker engine', () => ensureEngine(o.api, o.progress, `${p.logsDir}/dockerd.log`));
  await step('builder', () => builderStep(o.progress));
  await step('network', async () => {
    const names = namesFor(settings.instance);
    const had = await o.api.json('GET', `/networks/${names.network}`, 'inspect network').then(() => true, () => false);
    await new DockerRuntime(o.api, names, p).ensureNetwork();
    return had ? 'ok' : `created ${names.network}`;
  });
  // The daemon goes first: it reads the settings at start and writes the proxy's config file,
  // so a proxy (re)created next starts with the current settings and every route.
  await step('daemon', async () => {
    const running = await new DaemonClient(p.daemonSocket, 3000).call<{ build?: string }>('GET', '/health')
      .catch((e: BerthError) => { if (e.code === 'unavailable' || e.code === 'timeout') return null; throw e; }); // null: no daemon answers
    const outdated = running !== null && running.build !== buildId();
    const restarted = (settingsChanged || outdated) && await stopDaemon(p, settings, o.progress);
    if (restarted && outdated) {
      const r = await ensureDaemon(p, settings, o.progress, o.daemonEnv);
      return `${r}: restarted with the installed code`;
    }
    const r = await ensureDaemon(p, settings, o.progress, o.daemonEnv);
    return restarted ? 'restarted with the new settings' : r;
  });
  await step('proxy', () => ensureProxy(o.api, p, settings, o.progress));
  await step('services', async () => {
    if (!settings.services.length) return 'none enabled';
    const r = await new DaemonClient(p.daemonSocket, 0).stream<Record<string, string>>('POST', '/services/ensure', {}, (e) => {
      if (e.type === 'progress') o.progress(`  ${e.line as string}`);
    }, 'lost the daemon while it brought the shared services up; it restarts by itself: run berth up again');
    const changed = Object.entries(r).filter(([, v]) => v !== 'ok');
    return changed.length ? changed.map(([k, v]) => `${k} ${v}`).join(', ') : 'ok';
  });
  await step('backup key', async () => {
    if (!settings.services.includes('postgres')) return 'none needed (no PostgreSQL)';
    const k = await new DaemonClient(p.daemonSocket, 300_000).call<{ path: string; created: boolean }>('POST', '/backups/key');
    if (k.created) o.progress(`  keep a copy of ${k.path} away from this server (berth backup key export prints it): without it no backup can be read`);
    return k.created ? `created ${k.path}` : 'ok'; // berth backup key says where it is
  });
  await step('apps', async () => {
    const r = await new DaemonClient(p.daemonSocket, 300_000)
      .call<{ restarted: string[]; removed: string[]; routes: string[]; networks?: string[] }>('POST', '/reconcile');
    const fixes = [...r.restarted.map((x) => `restarted ${x}`), ...r.removed.map((x) => `removed ${x}`), ...r.routes.map((x) => `route ${x}`),
      ...r.networks ?? []];
    return fixes.length ? fixes.join(', ') : 'ok';
  });
  return { steps, settings };
}
