// Where a static site's files live under the data root, Capistrano-style (pure):
//   <root>/static/APP/releases/v3/   the files of release v3, complete once it has this name
//   <root>/static/APP/current        a symlink to releases/vN: what the proxy serves
// A release is filled under a partial name and renamed into place, so a crash never leaves a
// release that looks complete; `current` is flipped by renaming a new symlink over it, so a
// request sees either the old files or the new ones. The proxy's file server resolves `current`
// per request: a flip needs no proxy config change (proxy/caddy/static.ts).
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const PARTIAL = '.partial-';

export interface SiteLayout { dir: string; releases: string; current: string; release(r: string): string }

function checked(what: string, name: string): string {
  if (!NAME.test(name) || name.includes('..')) throw new BerthError('invalid', `${JSON.stringify(name)} is not a valid ${what} name for a static site`);
  return name;
}

export function siteLayout(staticDir: string, app: string): SiteLayout {
  const dir = join(staticDir, checked('app', app));
  const releases = join(dir, 'releases');
  return { dir, releases, current: join(dir, 'current'), release: (r) => join(releases, checked('release', r)) };
}

/** The directory a release is filled in before it gets its name (unique per attempt). */
export const partialName = (release: string, attempt: string) => `${PARTIAL}${checked('release', release)}-${attempt}`;

/** What prune removes: every release neither kept nor current, and every partial fill. */
export function pruneList(entries: string[], keep: string[], current: string | null): string[] {
  const stay = new Set([...keep, ...(current ? [current] : [])]);
  return entries.filter((e) => e.startsWith(PARTIAL) || !stay.has(e)).sort();
}
