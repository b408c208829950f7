import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImageRef, pullParams } from './image-ref.js';

const D = `sha256:${'a'.repeat(64)}`;

test('one parse gives the registry and the pull fields', () => {
  const cases: [string, string, { fromImage: string; tag?: string }][] = [
    ['nginx', 'docker.io', { fromImage: 'nginx', tag: 'latest' }],
    ['berth/hello:1', 'docker.io', { fromImage: 'berth/hello', tag: '1' }],
    ['localhost:5000/team/app:v1.2', 'localhost:5000', { fromImage: 'localhost:5000/team/app', tag: 'v1.2' }],
    ['localhost/app', 'localhost', { fromImage: 'localhost/app', tag: 'latest' }],
    ['ghcr.io/a/b', 'ghcr.io', { fromImage: 'ghcr.io/a/b', tag: 'latest' }],
    [`app:1@${D}`, 'docker.io', { fromImage: `app@${D}` }],
    [`registry.example.com:443/x@${D}`, 'registry.example.com:443', { fromImage: `registry.example.com:443/x@${D}` }],
  ];
  for (const [ref, registry, pull] of cases) {
    const r = parseImageRef(ref);
    assert.ok(r, ref);
    assert.equal(r.registry, registry, ref);
    assert.deepEqual(pullParams(r), pull, ref);
  }
  // a port in the tag position is a tag, not a registry: "team:5000" has no slash
  assert.deepEqual(parseImageRef('team:5000'), { name: 'team', registry: 'docker.io', tag: '5000', digest: null });
  for (const bad of ['', 'UPPER/app', 'app:', ':tag', 'app@sha256:short', 'a b', '--help', `x/${'a'.repeat(256)}`]) {
    assert.equal(parseImageRef(bad), null, bad);
  }
});
