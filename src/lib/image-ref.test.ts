import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImageRef, pullParams, withDefaultTag } from './image-ref.js';

const D = `sha256:${'a'.repeat(64)}`;

test('one parse gives the registry, the pull fields and the completed reference', () => {
  const cases: [string, string, { fromImage: string; tag?: string }, string][] = [
    ['nginx', 'docker.io', { fromImage: 'nginx', tag: 'latest' }, 'nginx:latest'],
    ['berth/hello:1', 'docker.io', { fromImage: 'berth/hello', tag: '1' }, 'berth/hello:1'],
    ['localhost:5000/team/app:v1.2', 'localhost:5000', { fromImage: 'localhost:5000/team/app', tag: 'v1.2' }, 'localhost:5000/team/app:v1.2'],
    ['localhost/app', 'localhost', { fromImage: 'localhost/app', tag: 'latest' }, 'localhost/app:latest'],
    ['ghcr.io/a/b', 'ghcr.io', { fromImage: 'ghcr.io/a/b', tag: 'latest' }, 'ghcr.io/a/b:latest'],
    [`app:1@${D}`, 'docker.io', { fromImage: `app@${D}` }, `app:1@${D}`],
    [`registry.example.com:443/x@${D}`, 'registry.example.com:443', { fromImage: `registry.example.com:443/x@${D}` }, `registry.example.com:443/x@${D}`],
  ];
  for (const [ref, registry, pull, full] of cases) {
    const r = parseImageRef(ref);
    assert.ok(r, ref);
    assert.equal(r.registry, registry, ref);
    assert.deepEqual(pullParams(r), pull, ref);
    assert.equal(withDefaultTag(r), full, ref);
  }
  // a port in the tag position is a tag, not a registry: "team:5000" has no slash
  assert.deepEqual(parseImageRef('team:5000'), { name: 'team', registry: 'docker.io', tag: '5000', digest: null });
  for (const bad of ['', 'UPPER/app', 'app:', ':tag', 'app@sha256:short', 'a b', '--help', `x/${'a'.repeat(256)}`]) {
    assert.equal(parseImageRef(bad), null, bad);
  }
});
