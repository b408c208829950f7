// What a release was deployed with beyond its processes (releases.spec, JSON): how requests are
// routed (path prefixes, the static site, redirects, headers, an upstream outside berth), its
// cron jobs and volumes. Kept with the release, so a rollback brings every part of it back. Pure.
import type { AppSpec } from '../spec/index.js';
import type { ReleaseRow } from '../../state/store.js';

export type ReleaseSpec = Partial<Pick<AppSpec, 'routes' | 'static' | 'cron' | 'redirects' | 'headers' | 'upstream' | 'volumes' | 'release'>> & {
  /** The static site's files: the image they come from (an id once built or pulled) and their directory in it. */
  site?: { image: string; root: string };
};

export const specOf = (r: Pick<ReleaseRow, 'spec'>): ReleaseSpec => JSON.parse(r.spec) as ReleaseSpec;

/** The parts of an app's description a release keeps; a release without a description keeps none. */
export function releaseSpec(spec: AppSpec | undefined, siteImage: string | null = null): string {
  if (!spec) return '{}';
  const { routes, static: st, cron, redirects, headers, upstream, volumes, release } = spec;
  const site = st && siteImage ? { image: siteImage, root: st.root } : undefined;
  return JSON.stringify({ routes, static: st, cron, redirects, headers, upstream, volumes, release, ...(site ? { site } : {}) } satisfies ReleaseSpec);
}

/** The release command a deploy runs, and keeps with its release: the one asked for; else, for a
 *  config change, the live release's (its env changed: migrations run against it again, as
 *  Heroku's release phase does); else none. */
export function releaseCommandFor(kind: string, asked: string[] | undefined, live: Pick<ReleaseRow, 'spec'> | null, timeoutMs: number)
  : NonNullable<ReleaseSpec['release']> | undefined {
  if (asked?.length) return { command: asked, process: null, timeout_ms: timeoutMs };
  return kind === 'config' && live ? specOf(live).release ?? undefined : undefined;
}

/** The release's static site files, where it has a site. */
export const siteOf = (r: Pick<ReleaseRow, 'spec'>) => specOf(r).site ?? null;
