import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BerthError } from '../../lib/errors.js';
import { pathsFor } from '../../state/paths.js';
import { DockerRuntime } from './driver.js';
import { EngineApi } from './engine-api.js';
import { pulledImage } from './services.js';
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
  await assert.rejects(rt.services.dedicatedRedis.address('shop'), down);
  await assert.rejects(rt.services.dedicatedRedis.remove('shop', { data: false }), down);
  await assert.rejects(rt.ensureAppNetwork({ app: 'shop', services: [] }), down);
});

/** An engine on a unix socket whose image pulls fail with `message` (as Docker streams it). */
async function failingPulls(message: string) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pull-test-'));
  const socket = join(dir, 'docker.sock');
  const pulls: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://docker');
    const json = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (url.pathname === '/version') return json(200, { Version: '20.10.24', ApiVersion: '1.41', MinAPIVersion: '1.12' });
    if (url.pathname.endsWith('/images/create')) { pulls.push(url.searchParams.get('fromImage') ?? ''); return json(200, { error: message }); }
    return json(404, { message: 'No such image' });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  const close = () => new Promise<void>((r) => server.close(() => { rmSync(dir, { recursive: true, force: true }); r(); }));
  return { api: new EngineApi(socket), pulls, close };
}

// A pull that fails once must not decide what runs from then on: nothing about it is recorded.
// Where berth has a build of the same release, that build runs for this start and the reason is
// said; where it has none (an image the operator named), the failure stops the start.
test('the object store\'s published image: a failed pull runs the local build for this start and says why, or stops the start', async () => {
  const ref = 'dxflrs/garage:v2.3.0';
  for (const [message, reason] of [
    ['Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host', 'offline'],
    ['toomanyrequests: You have reached your pull rate limit.', 'rate limited'],
    ['manifest for dxflrs/garage:v2.3.0 not found: manifest unknown', 'not found'],
    ['Get "https://registry-1.docker.io/v2/": net/http: request canceled (Client.Timeout exceeded)', 'timeout']] as const) {
    const engine = await failingPulls(message);
    try {
      const lines: string[] = [];
      assert.equal(await pulledImage(engine.api, ref, (l) => lines.push(l), async () => 'berth/garage:local'), 'berth/garage:local');
      assert.match(lines.join('\n'), new RegExp(`cannot pull .*\\(${reason}: .*using berth's local build .*the next berth up tries again`));
      await assert.rejects(pulledImage(engine.api, 'registry.example/garage:v9', () => undefined),
        (e: BerthError) => e.details?.reason === reason.replace(' ', '_') && e.message.includes(message));
      assert.deepEqual(engine.pulls, ['dxflrs/garage', 'registry.example/garage'], 'a pull was not tried');
    } finally {
      await engine.close();
    }
  }
});
