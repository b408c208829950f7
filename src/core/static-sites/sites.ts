// A static site's releases on disk (layout.ts): filled from an image's directory, pointed to by
// one atomic symlink flip, pruned, removed with the app. The one effectful part of static-sites.
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BerthError } from '../../lib/errors.js';
import type { ExportedDir, Runtime } from '../../runtime/types.js';
import { partialName, PARTIAL, pruneList, siteLayout } from './layout.js';

export interface Prepared extends ExportedDir { release: string; dir: string; reused: boolean }

/** Makes a rename in dir last across a power cut. */
function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

export class StaticSites {
  constructor(readonly staticDir: string, readonly runtime: Pick<Runtime, 'exportDir'>) {}

  /** The path the proxy serves the app's site from (a static route target's dir). */
  servedDir(app: string): string { return siteLayout(this.staticDir, app).current; }

  /** Fills releases/RELEASE with `path` of `image`. A complete release is kept as it is; a fill
   *  cut short (a crash) is thrown away and done again. */
  async prepare(app: string, release: string, image: string, path: string): Promise<Prepared> {
    const l = siteLayout(this.staticDir, app);
    const dir = l.release(release);
    if (existsSync(dir)) return { release, dir, reused: true, files: 0, bytes: 0, skipped: [] };
    this.dropPartials(l.releases, release);
    const partial = join(l.releases, partialName(release, randomBytes(4).toString('hex')));
    try {
      const got = await this.runtime.exportDir(image, path, partial);
      renameSync(partial, dir);
      syncDir(l.releases);
      return { ...got, release, dir, reused: false };
    } catch (e) {
      rmSync(partial, { recursive: true, force: true });
      throw e;
    }
  }

  /** Serves `release` from now on: one atomic flip of `current`. */
  point(app: string, release: string): void {
    const l = siteLayout(this.staticDir, app);
    if (!existsSync(l.release(release))) {
      throw new BerthError('not_found', `static site of ${app}: release ${release} has no files`, 'prepare it first (a deploy does)');
    }
    const tmp = `${l.current}.${randomBytes(4).toString('hex')}.tmp`;
    symlinkSync(join('releases', release), tmp); // relative: the same inside the proxy's container
    try {
      renameSync(tmp, l.current);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    syncDir(l.dir);
  }

  /** The release `current` points to, or null. */
  current(app: string): string | null {
    const l = siteLayout(this.staticDir, app);
    try {
      return basename(readlinkSync(l.current));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** Removes every release but those kept and the current one (rollback targets stay); says which. */
  prune(app: string, keep: string[]): string[] {
    const l = siteLayout(this.staticDir, app);
    if (!existsSync(l.releases)) return [];
    const gone = pruneList(readdirSync(l.releases), keep, this.current(app));
    for (const name of gone) rmSync(join(l.releases, name), { recursive: true, force: true });
    return gone;
  }

  /** The app is deleted: its site goes. */
  remove(app: string): void {
    rmSync(siteLayout(this.staticDir, app).dir, { recursive: true, force: true });
  }

  private dropPartials(releases: string, release: string): void {
    if (!existsSync(releases)) return;
    const prefix = `${PARTIAL}${release}-`;
    for (const e of readdirSync(releases)) if (e.startsWith(prefix)) rmSync(join(releases, e), { recursive: true, force: true });
  }
}
