import { test } from 'node:test';
import assert from 'node:assert/strict';
import { namesFor } from '../runtime/docker/specs.js';
import { parseSettings } from '../state/settings.js';
import { pathsFor } from '../state/paths.js';
import { proxyContainerSpec } from './proxy-container.js';

test('the proxy sees static sites read-only at their host path; its spec hash covers its mounts (berth up recreates on change)', () => {
  const s = parseSettings({});
  const spec = proxyContainerSpec(namesFor('berth'), s, pathsFor('/data/berth'), 'berth/caddy:x');
  assert.ok(spec.HostConfig.Binds.includes('/data/berth/static:/data/berth/static:ro'), spec.HostConfig.Binds.join(' '));
  const other = proxyContainerSpec(namesFor('berth'), s, pathsFor('/data/other'), 'berth/caddy:x');
  assert.notEqual(spec.Labels['berth.spec'], other.Labels['berth.spec']);
});
