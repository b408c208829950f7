// A restore-host that fails before the daemon takes over the apps' data leaves nothing behind:
// the daemon it started is stopped, the containers and networks it made are removed (never one
// that was there before it ran), and so is every entry it added to the data root. The root is then as it was (a copy of the old
// backups the operator put there stays), and the same command can be run again, with
// --no-archive when the archive was the cause. A failure after that point is not undone: the
// platform is up with the state restored, and each app's outcome is said.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { restoredBucketsDir } from '../core/backups/buckets.js';
import { PLATFORM } from '../core/backups/platform.js';
import { asBerthError, BerthError } from '../lib/errors.js';
import type { EngineApi } from '../runtime/docker/engine-api.js';
import { isNotFound } from '../runtime/docker/engine-api.js';
import type { Paths } from '../state/paths.js';
import { loadSettings } from '../state/settings.js';
import { stopDaemon } from './daemon-process.js';

/** What was there before: the root's entries, whether the WAL archive was among its backups, and
 *  every container and network of the engine (another platform's, of the same instance name, too). */
export interface RootBefore { entries: Set<string>; archive: boolean; containers: Set<string>; networks: Set<string> }

export async function rootBefore(p: Paths, api: EngineApi): Promise<RootBefore> {
  const cs = await api.json<{ Id: string }[]>('GET', '/containers/json', 'list containers', { query: { all: true } });
  const ns = await api.json<{ Id: string }[]>('GET', '/networks', 'list networks');
  return { entries: new Set(existsSync(p.root) ? readdirSync(p.root) : []), archive: existsSync(p.archiveDir),
    containers: new Set(cs.map((c) => c.Id)), networks: new Set(ns.map((n) => n.Id)) };
}

/** Takes back what the failed run made, then gives its error with what to do next. */
export async function undoRestore(p: Paths, api: EngineApi, before: RootBefore, cause: unknown, progress: (l: string) => void): Promise<never> {
  const e = asBerthError(cause);
  progress(`✗ ${e.message}`);
  progress('… taking back what this restore made');
  const left: string[] = [];
  const step = async (what: string, fn: () => Promise<unknown> | void) => {
    try { await fn(); } catch (x) { left.push(`${what}: ${(x as Error).message}`); }
  };
  if (existsSync(p.settings)) {
    const s = loadSettings(p);
    await step('the daemon', () => stopDaemon(p, s, progress, 'started by this restore'));
    await step('the containers', async () => {
      const filters = JSON.stringify({ label: [`berth.instance=${s.instance}`] });
      const made = <T extends { Id: string }>(xs: T[], had: Set<string>) => xs.filter((x) => !had.has(x.Id));
      const listed = await api.json<{ Id: string }[]>('GET', '/containers/json', 'list containers', { query: { all: true, filters } });
      for (const c of made(listed, before.containers)) {
        await api.buffer('DELETE', `/containers/${c.Id}`, 'remove a container', { query: { force: true, v: true } })
          .catch((x) => { if (!isNotFound(x)) throw x; });
      }
      for (const n of made(await api.json<{ Id: string }[]>('GET', '/networks', 'list networks', { query: { filters } }), before.networks)) {
        await api.buffer('DELETE', `/networks/${n.Id}`, 'remove a network').catch((x) => { if (!isNotFound(x)) throw x; });
      }
    });
  }
  await step('the files', () => {
    for (const f of readdirSync(p.root).filter((x) => x !== 'backups' && !before.entries.has(x))) rmSync(join(p.root, f), { recursive: true, force: true });
    if (!before.archive) rmSync(p.archiveDir, { recursive: true, force: true });
    rmSync(restoredBucketsDir(join(p.root, 'backups', PLATFORM)), { recursive: true, force: true });
  });
  if (left.length) {
    throw new BerthError(e.code, e.message, `and taking back what it made failed (${left.join('; ')}): remove ${p.root}'s state, berth.json `
      + 'and the berth containers by hand before running it again', e.details);
  }
  throw new BerthError(e.code, e.message, `nothing of this attempt is left in ${p.root}; ${e.hint ?? 'fix the cause'}, then run the same command again`
    + (e.hint?.includes('--no-archive') ? '' : ' (add --no-archive if the WAL archive is what failed)'), e.details);
}
