// A static site served by Caddy's file server from a host directory (static-sites keeps it:
// <root>/static/APP/current, a symlink to the release's files). Caddy resolves the root path
// on every request, so flipping the `current` link switches the files with no config change.
//
// SPA fallback: like `try_files {path} {path}/ /index.html`, except for paths that name an
// asset (ASSET_GLOBS: .js, .css, images, fonts, ...): a missing /assets/nope.js answers 404, not
// index.html. A browser that asked for a script must not get HTML with 200 (it fails to parse,
// and the error says nothing of a missing file), and cached under the script's name it would
// outlive the fix. Client routes (/some/client/route, /users/42) still get index.html.
//
// Cache-Control, decided on the file actually served (after the fallback's rewrite, so
// index.html served for a client route is never marked immutable):
// - a content-hashed name: a dot or dash, then 8 or more of [A-Za-z0-9_] with at least one digit,
//   then the extension(s) (app.3f9a2c1b.js from webpack, index-BQ4x8sYz.css from Vite) gets
//   `public, max-age=31536000, immutable`: its content never changes under that name;
// - everything else (index.html, favicon.ico, robots.txt, a hash that happens to be all letters)
//   gets `no-cache`: the browser keeps it but asks again each time, with the ETag and
//   Last-Modified the file server sends, so a new release shows at once (a 304 costs little).
import { literal } from './placeholders.js';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'no-cache';
/** Go (RE2) and JS read these the same way; static.test.ts runs them on sample names. */
export const HASHED_NAME = '[.-][A-Za-z0-9_]{8,}(\\.[A-Za-z0-9]+){1,2}$';
const NO_DIGIT_NAME = '[.-][A-Za-z_]{8,}(\\.[A-Za-z0-9]+){1,2}$';
export const ASSET_EXTENSIONS = ['js', 'mjs', 'css', 'map', 'json', 'wasm', 'png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'avif', 'ico',
  'woff', 'woff2', 'ttf', 'otf', 'eot', 'mp4', 'webm', 'mp3', 'txt', 'xml', 'pdf'];
const ASSET_GLOBS = ASSET_EXTENSIONS.map((e) => `*.${e}`);

/** The name (a path) counts as content-hashed: the rule Caddy applies, in JS (for tests, the fake). */
export const isHashedName = (path: string) => new RegExp(HASHED_NAME).test(path) && !new RegExp(NO_DIGIT_NAME).test(path);
export const isAssetPath = (path: string) => ASSET_EXTENSIONS.some((e) => path.toLowerCase().endsWith(`.${e}`));

const hashed = { path_regexp: { pattern: HASHED_NAME }, not: [{ path_regexp: { pattern: NO_DIGIT_NAME } }] };
const cacheControl = (value: string) => ({ handler: 'headers', response: { set: { 'Cache-Control': [value] } } });

/** Handlers that serve the request's path from dir (the route's prefix already stripped). */
export function staticHandlers(dir: string, spa: boolean) {
  const root = literal(dir);
  const routes: object[] = [];
  if (spa) {
    // neither a file nor a directory, nor an asset's name: the app's own page
    const exists = { file: { root, try_files: ['{http.request.uri.path}', '{http.request.uri.path}/'] } };
    routes.push({ match: [{ not: [exists, { path: ASSET_GLOBS }] }], handle: [{ handler: 'rewrite', uri: '/index.html' }] });
  }
  routes.push(
    { match: [hashed], handle: [cacheControl(IMMUTABLE)] },
    { match: [{ not: [hashed] }], handle: [cacheControl(REVALIDATE)] },
    { handle: [{ handler: 'file_server', root }] },
  );
  return [{ handler: 'subroute', routes }];
}
