import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAssetPath, isHashedName, staticHandlers } from './static.js';

test('content-hashed names (webpack, Vite) are told apart from names a release may change the content of', () => {
  for (const n of ['/assets/app.3f9a2c1b.js', '/assets/index-BQ4x8sYz.css', '/static/js/main.8e5d1c2a.chunk.js', '/img/logo.a1b2c3d4e5.svg',
    '/assets/index-BQ4x8sYz.js.map', '/assets/vendor-react-Cx1_9zQa.js']) assert.ok(isHashedName(n), n);
  for (const n of ['/index.html', '/favicon.ico', '/robots.txt', '/assets/index-homepage.js', '/assets/main.abcdefgh.js',
    '/logo-2024-dark.png', '/jquery-3.7.1.min.js', '/chunk-vendors-2.js', '/3f9a2c1b5.js']) assert.ok(!isHashedName(n), n);
});

test('asset paths are known by their extension, whatever its case', () => {
  assert.ok(isAssetPath('/assets/nope.js'));
  assert.ok(isAssetPath('/IMG/A.PNG'));
  assert.ok(!isAssetPath('/some/client/route'));
  assert.ok(!isAssetPath('/users/42'));
});

test('an SPA falls back to /index.html only for what is neither a file, a directory nor an asset, and caches by the served name', () => {
  const [sub] = staticHandlers('/data/berth/static/shop/current', true) as unknown as [{ routes: { match?: unknown[]; handle: { handler: string }[] }[] }];
  const [fallback, immutable, revalidate, files] = sub.routes;
  assert.deepEqual(fallback!.match, [{ not: [
    { file: { root: '/data/berth/static/shop/current', try_files: ['{http.request.uri.path}', '{http.request.uri.path}/'] } },
    { path: ['*.js', '*.mjs', '*.css', '*.map', '*.json', '*.wasm', '*.png', '*.jpg', '*.jpeg', '*.gif', '*.svg', '*.webp', '*.avif', '*.ico',
      '*.woff', '*.woff2', '*.ttf', '*.otf', '*.eot', '*.mp4', '*.webm', '*.mp3', '*.txt', '*.xml', '*.pdf'] },
  ] }]);
  assert.deepEqual(fallback!.handle, [{ handler: 'rewrite', uri: '/index.html' }]);
  assert.deepEqual(immutable!.handle, [{ handler: 'headers', response: { set: { 'Cache-Control': ['public, max-age=31536000, immutable'] } } }]);
  assert.deepEqual(revalidate!.match, [{ not: immutable!.match }]);
  assert.deepEqual(files, { handle: [{ handler: 'file_server', root: '/data/berth/static/shop/current' }] });
});

test('a site that is no SPA has no fallback; braces in the root are kept literal', () => {
  const [sub] = staticHandlers('/srv/{env.HOME}/current', false) as unknown as [{ routes: { handle: { root?: string }[] }[] }];
  assert.equal(sub.routes.length, 3);
  assert.equal(sub.routes[2]!.handle[0]!.root, '/srv/\\{env.HOME\\}/current');
});
