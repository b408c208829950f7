// A whole core on fakes, for unit tests: an in-memory state, the fake runtime and proxy (both
// held to the contract suites their real drivers pass), no shared services. `restart()` gives
// the context a daemon started after a crash would have: the same state, runtime and proxy.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../lib/log.js';
import { Cipher } from '../lib/secrets.js';
import { FakeProxy } from '../proxy/fake.js';
import type { RouteInput } from '../proxy/types.js';
import { FakeRuntime } from '../runtime/fake.js';
import { pathsFor } from '../state/paths.js';
import { parseSettings, type Settings } from '../state/settings.js';
import { openDb } from '../state/db.js';
import { Store } from '../state/store.js';
import { desiredRoutes } from './apps/routes.js';
import { type Ctx, type Hooks, newCtx } from './context.js';

export interface Core { ctx: Ctx; rt: FakeRuntime; proxy: FakeProxy; restart(hooks?: Hooks): Core }

export function fakeCore(settings: Partial<Settings> = {}, hooks: Hooks = {}): Core {
  const dir = mkdtempSync(join(tmpdir(), 'berth-core-'));
  const store = new Store(openDb(join(dir, 'berth.db')));
  const rt = new FakeRuntime();
  const cipher = Cipher.fromKeyFile(join(dir, 'master.key'));
  const s = parseSettings({ services: [], upstream_refresh_ms: 20, drain_timeout_ms: 0, deploy_timeout_ms: 2000, ...settings });
  let routes = (): RouteInput[] => [];
  const proxy = new FakeProxy(() => routes());
  const build = (h: Hooks): Core => {
    const ctx = newCtx({
      store, cipher, runtime: rt, proxy, settings: s, paths: pathsFor(dir), log: createLogger({ level: 'silent' }),
      boot: randomBytes(4).toString('hex'), hooks: h, jobs: async () => ({}),
    });
    routes = () => desiredRoutes(ctx);
    return { ctx, rt, proxy, restart: (next = {}) => build(next) };
  };
  return build(hooks);
}

export const noEvents = () => undefined;
