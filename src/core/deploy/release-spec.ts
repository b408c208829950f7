// What a release was deployed with beyond its processes (releases.spec, JSON): how requests are
// routed (path prefixes, the static site, redirects, headers, an upstream outside berth), its
// cron jobs and volumes. Kept with the release, so a rollback brings every part of it back. Pure.
import type { AppSpec } from '../spec/index.js';
import type { ReleaseRow } from '../../state/store.js';

export type ReleaseSpec = Partial<Pick<AppSpec, 'routes' | 'static' | 'cron' | 'redirects' | 'headers' | 'upstream' | 'volumes'>>;

export const specOf = (r: Pick<ReleaseRow, 'spec'>): ReleaseSpec => JSON.parse(r.spec) as ReleaseSpec;

/** The parts of an app's description a release keeps; a release without a description keeps none. */
export function releaseSpec(spec: AppSpec | undefined): string {
  if (!spec) return '{}';
  const { routes, static: site, cron, redirects, headers, upstream, volumes } = spec;
  return JSON.stringify({ routes, static: site, cron, redirects, headers, upstream, volumes } satisfies ReleaseSpec);
}
