import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BerthError } from '../../lib/errors.js';
import { pathsFor } from '../../state/paths.js';
import { DockerRuntime } from './driver.js';
import { EngineApi } from './engine-api.js';
import { namesFor } from './specs.js';

// An engine that does not answer is an error, never "no such container": status must say the
// engine is down, not that the services are missing.
test('with Docker Engine unreachable, inspecting or removing says so instead of answering "missing"', async () => {
  const rt = new DockerRuntime(new EngineApi('/nonexistent/docker.sock'), namesFor('t'), pathsFor('/nonexistent/root'));
  const down = (e: BerthError) => e.code === 'unavailable' && /cannot reach Docker Engine/.test(e.message);
  await assert.rejects(rt.services.state('postgres'), down);
  await assert.rejects(rt.services.address('redis'), down);
  await assert.rejects(rt.services.remove('s3'), down);
  await assert.rejects(rt.inspect('app', 'web', 'v1'), down);
  await assert.rejects(rt.imageInfo('app:1'), down);
});
