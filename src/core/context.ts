// Everything the core needs, passed explicitly: state, secrets, the runtime and the proxy.
import type { Logger } from '../lib/log.js';
import type { Cipher } from '../lib/secrets.js';
import type { Settings } from '../state/settings.js';
import type { Proxy } from '../proxy/types.js';
import type { Runtime } from '../runtime/types.js';
import type { EngineApi } from '../runtime/docker/engine-api.js';
import type { Paths } from '../state/paths.js';
import type { Store } from '../state/store.js';

export interface Hooks {
  /** Pause forever before this deploy step (crash tests kill the daemon there). */
  pauseAt?: string;
  /** Called when a pause begins, e.g. to write a marker file. */
  onPause?: (step: string) => void;
  /** When set, a pause ends when this resolves (failure tests change things meanwhile);
   *  otherwise it lasts forever (crash tests kill the daemon there). */
  resume?: () => Promise<void>;
  /** Called when a deploy or rollback lets go of its app's lock (the daemon retires releases then). */
  afterDeploy?: () => void;
}

export interface Ctx {
  store: Store;
  cipher: Cipher;
  runtime: Runtime;
  proxy: Proxy;
  settings: Settings;
  /** Docker Engine, for platform containers (the proxy, shared services). */
  engine: EngineApi;
  paths: Paths;
  log: Logger;
  /** Identifies this daemon process; locks from another boot are stale. */
  boot: string;
  hooks: Hooks;
}

export async function pauseIfHooked(ctx: Ctx, step: string): Promise<void> {
  if (ctx.hooks.pauseAt !== step) return;
  ctx.log.warn({ step }, 'test hook: pausing deploy');
  ctx.hooks.onPause?.(step);
  await (ctx.hooks.resume?.() ?? new Promise(() => { /* never resolves: the test kills the daemon here */ }));
}
