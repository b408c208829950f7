// Static front ends of apps: files from an image's directory, a release directory per release
// and one atomic pointer flip (layout.ts, sites.ts). The proxy serves them (proxy/caddy/static.ts).
export { siteLayout, pruneList } from './layout.js';
export { StaticSites, type Prepared } from './sites.js';
