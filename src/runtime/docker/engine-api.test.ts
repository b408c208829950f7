import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.js';
import {
  API_MAX, API_MIN, compareVersions, EngineApi, isVersionRefused, negotiateVersion, parseVersionAnswer, progressError, progressText, type VersionAnswer,
} from './engine-api.js';
import { exitCodeFromStatus, namesFor, networkCreateBody } from './specs.js';

// GET /version answers, whole. Which are real:
// - DOCKER_20_10: real, Debian 12's docker.io 20.10.24 (the engine of berth's CI machine).
// - DOCKER_28_5: real, Debian sid's docker.io 28.5.2 run with DOCKER_MIN_API_VERSION=1.44 (see
//   test/helpers/engine28.ts), so that it refuses API 1.41 as Docker 29.0 does.
// - DOCKER_26_1 and DOCKER_29_0: built, not recorded: the fields of the real answers above (the
//   SystemVersion schema of the API references v1.45 and v1.52), with the API versions those
//   releases serve (26.1: API 1.45, minimum 1.24; 29.0: API 1.52, minimum 1.44 by default). Their
//   commits, build times and component versions are placeholders.
const DOCKER_20_10: VersionAnswer = JSON.parse(`{"Platform":{"Name":""},"Components":[{"Name":"Engine","Version":"20.10.24+dfsg1",
"Details":{"ApiVersion":"1.41",
"Arch":"amd64","BuildTime":"2026-05-07T21:09:36.000000000+00:00","Experimental":"false","GitCommit":"5d6db84","GoVersion":"go1.19.8",
"KernelVersion":"6.18.44-fc-v669","MinAPIVersion":"1.12","Os":"linux"}},{"Name":"containerd","Version":"1.6.20~ds1",
"Details":{"GitCommit":"1.6.20~ds1-1+deb12u3"}},
{"Name":"runc","Version":"1.1.5+ds1","Details":{"GitCommit":"1.1.5+ds1-1+deb12u1"}},{"Name":"docker-init","Version":"0.19.0","Details":{"GitCommit":""}}],
"Version":"20.10.24+dfsg1","ApiVersion":"1.41","MinAPIVersion":"1.12","GitCommit":"5d6db84","GoVersion":"go1.19.8","Os":"linux","Arch":"amd64",
"KernelVersion":"6.18.44-fc-v669","BuildTime":"2026-05-07T21:09:36.000000000+00:00"}`);
const DOCKER_26_1: VersionAnswer = JSON.parse(`{"Platform":{"Name":"Docker Engine - Community"},"Components":[{"Name":"Engine","Version":"26.1.4",
"Details":{"ApiVersion":"1.45","Arch":"amd64","BuildTime":"2024-06-05T11:29:04.000000000+00:00","Experimental":"false","GitCommit":"0000000",
"GoVersion":"go1.21.11","KernelVersion":"6.1.0-21-amd64","MinAPIVersion":"1.24","Os":"linux"}},{"Name":"containerd","Version":"1.6.33",
"Details":{"GitCommit":""}},
{"Name":"runc","Version":"1.1.12","Details":{"GitCommit":""}},{"Name":"docker-init","Version":"0.19.0","Details":{"GitCommit":"0000000"}}],
"Version":"26.1.4","ApiVersion":"1.45","MinAPIVersion":"1.24","GitCommit":"0000000","GoVersion":"go1.21.11","Os":"linux","Arch":"amd64",
"KernelVersion":"6.1.0-21-amd64","BuildTime":"2024-06-05T11:29:04.000000000+00:00"}`);
const DOCKER_28_5: VersionAnswer = JSON.parse(`{"Platform":{"Name":""},"Components":[{"Name":"Engine","Version":"28.5.2+dfsg4","Details":{"ApiVersion":"1.51",
"Arch":"amd64","BuildTime":"2026-09-15T11:02:57.000000000+00:00","Experimental":"false","GitCommit":"3ef3c07c883be49a2e8097bcf6d2952fce1d70eb",
"GoVersion":"go1.27.1","KernelVersion":"6.18.44-fc-v669","MinAPIVersion":"1.44","Os":"linux"}},{"Name":"containerd","Version":"2.1.9+unknown",
"Details":{"GitCommit":""}},{"Name":"runc","Version":"1.1.5+ds1","Details":{"GitCommit":"1.1.5+ds1-1+deb12u1"}},{"Name":"docker-init","Version":"0.19.0",
"Details":{"GitCommit":""}}],"Version":"28.5.2+dfsg4","ApiVersion":"1.51","MinAPIVersion":"1.44","GitCommit":"3ef3c07c883be49a2e8097bcf6d2952fce1d70eb",
"GoVersion":"go1.27.1","Os":"linux","Arch":"amd64","KernelVersion":"6.18.44-fc-v669","BuildTime":"2026-09-15T11:02:57.000000000+00:00"}`);
const DOCKER_29_0: VersionAnswer = JSON.parse(`{"Platform":{"Name":"Docker Engine - Community"},"Components":[{"Name":"Engine","Version":"29.0.0",
"Details":{"ApiVersion":"1.52","Arch":"amd64","BuildTime":"2025-11-10T00:00:00.000000000+00:00","Experimental":"false","GitCommit":"0000000",
"GoVersion":"go1.25.4","KernelVersion":"6.12.48+deb13-amd64","MinAPIVersion":"1.44","Os":"linux"}},{"Name":"containerd","Version":"v2.1.5",
"Details":{"GitCommit":""}},{"Name":"runc","Version":"1.3.3","Details":{"GitCommit":""}},{"Name":"docker-init","Version":"0.19.0",
"Details":{"GitCommit":"0000000"}}],
"Version":"29.0.0","ApiVersion":"1.52","MinAPIVersion":"1.44","GitCommit":"0000000","GoVersion":"go1.25.4","Os":"linux","Arch":"amd64",
"KernelVersion":"6.12.48+deb13-amd64","BuildTime":"2025-11-10T00:00:00.000000000+00:00"}`);
// What Docker 28/29 answer to a request in a version below their minimum (recorded from 28.5.2).
const TOO_OLD = (v: string, min: string) =>
  `client version ${v} is too old. Minimum supported API version is ${min}, please upgrade your client to a newer version`;

const refusal = (f: () => unknown): BerthError => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof BerthError, String(e));
    return e;
  }
  assert.fail('expected a refusal');
};

test('versions compare as numbers, not as text', () => {
  assert.ok(compareVersions('1.9', '1.41') < 0);
  assert.ok(compareVersions('1.52', '1.47') > 0);
  assert.equal(compareVersions('1.44', '1.44'), 0);
  assert.ok(compareVersions('2.0', '1.99') > 0);
  assert.throws(() => compareVersions('v1.41', '1.41'), BerthError);
});

test('berth speaks the newest API both sides support, with 20.10, 26.1, 28.5 and 29.0 engines', () => {
  assert.equal(API_MIN, '1.41');
  assert.deepEqual(negotiateVersion(DOCKER_20_10), { version: '1.41', engine: '20.10.24+dfsg1', serverMax: '1.41', serverMin: '1.12' });
  assert.equal(negotiateVersion(DOCKER_26_1).version, '1.45');
  assert.equal(negotiateVersion(DOCKER_28_5).version, '1.51');
  assert.equal(negotiateVersion(DOCKER_29_0).version, API_MAX);
  // an engine newer than berth knows is spoken to in berth's newest version, while it still accepts it
  assert.equal(negotiateVersion({ ...DOCKER_29_0, Version: '31.0.0', ApiVersion: '1.56' }).version, API_MAX);
  // engines before API 1.25 did not say their minimum
  assert.equal(negotiateVersion({ Version: 'x', ApiVersion: '1.41' }).version, '1.41');
});

test('a 29-style engine refuses the version berth used to pin, and negotiation says why', () => {
  const e = refusal(() => negotiateVersion(DOCKER_29_0, '1.41', '1.41'));
  assert.equal(e.code, 'unavailable');
  assert.match(e.message, /Docker Engine 29\.0\.0 accepts Engine API 1\.44 and newer only; berth speaks 1\.41 to 1\.41/);
  assert.match(e.hint ?? '', /DOCKER_MIN_API_VERSION=1\.41/);
});

test('an engine too new (minimum above berth\'s newest) or too old (below 1.41) is refused clearly', () => {
  const tooNew = refusal(() => negotiateVersion({ Version: '40.0.0', ApiVersion: '1.70', MinAPIVersion: '1.60' }));
  assert.equal(tooNew.code, 'unavailable');
  assert.match(tooNew.message, /accepts Engine API 1\.60 and newer only; berth speaks 1\.41 to 1\.52/);
  assert.match(tooNew.hint ?? '', /upgrade berth|DOCKER_MIN_API_VERSION=1\.52|min-api-version/);
  const tooOld = refusal(() => negotiateVersion({ Version: '19.03.12', ApiVersion: '1.40', MinAPIVersion: '1.12' }));
  assert.equal(tooOld.code, 'unavailable');
  assert.match(tooOld.message, /Docker Engine 19\.03\.12 speaks Engine API 1\.40 at most; berth needs 1\.41 or newer/);
  assert.match(tooOld.hint ?? '', /upgrade Docker Engine/);
  assert.equal(refusal(() => negotiateVersion({ Version: '1' })).code, 'unavailable');
  assert.equal(refusal(() => parseVersionAnswer('<html>')).code, 'unavailable');
  assert.equal(refusal(() => parseVersionAnswer('[]')).code, 'unavailable');
});

test('a request refused for its version is told apart from other 400s', () => {
  assert.ok(isVersionRefused(400, `docker: list containers: ${TOO_OLD('1.41', '1.44')}`));
  assert.ok(isVersionRefused(400, 'client version 1.53 is too new. Maximum supported API version is 1.52'));
  assert.ok(!isVersionRefused(400, 'invalid JSON'));
  assert.ok(!isVersionRefused(404, TOO_OLD('1.41', '1.44')));
});

test('network create sends CheckDuplicate only to engines before API 1.44, which need it', () => {
  const n = namesFor('berth');
  assert.deepEqual(networkCreateBody(n, '1.41'), { Name: 'berth', Driver: 'bridge', CheckDuplicate: true, Labels: { 'berth.instance': 'berth' } });
  assert.deepEqual(networkCreateBody(n, '1.43'), { Name: 'berth', Driver: 'bridge', CheckDuplicate: true, Labels: { 'berth.instance': 'berth' } });
  assert.deepEqual(networkCreateBody(n, '1.44'), { Name: 'berth', Driver: 'bridge', Labels: { 'berth.instance': 'berth' } });
  assert.deepEqual(networkCreateBody(n, '1.52'), { Name: 'berth', Driver: 'bridge', Labels: { 'berth.instance': 'berth' } });
});

test('pull progress: status lines shown, progress-bar updates left out, with and without the progress text (Docker 29 drops it)', () => {
  // Docker 20.10-28 lines
  assert.equal(progressText({ status: 'Pulling from library/caddy', id: '2' }), '2: Pulling from library/caddy');
  assert.equal(progressText({ status: 'Pulling fs layer', progressDetail: {}, id: 'a1b2' }), 'a1b2: Pulling fs layer');
  assert.equal(progressText({ status: 'Downloading', progressDetail: { current: 10, total: 100 }, progress: '[=>  ] 10B/100B', id: 'a1b2' }), null);
  // Docker 29 lines: no progress text
  assert.equal(progressText({ status: 'Downloading', progressDetail: { current: 10, total: 100 }, id: 'a1b2' }), null);
  assert.equal(progressText({ status: 'Extracting', progressDetail: { current: 5 }, id: 'a1b2' }), null);
  assert.equal(progressText({ status: 'Download complete', progressDetail: {}, id: 'a1b2' }), 'a1b2: Download complete');
  assert.equal(progressText({ status: 'Digest: sha256:abc' }), 'Digest: sha256:abc');
  assert.equal(progressText({ stream: 'Step 1/3 : FROM scratch\n' }), null);
});

test('a progress stream\'s failure is read from errorDetail, or the deprecated error field', () => {
  assert.equal(progressError({ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' }), 'manifest unknown');
  assert.equal(progressError({ errorDetail: { message: 'pull access denied' } }), 'pull access denied');
  assert.equal(progressError({ error: 'old style' }), 'old style');
  assert.equal(progressError({ status: 'Downloading', progressDetail: {} }), null);
});

test('the exit code of a stopped container is read from the list\'s Status text', () => {
  assert.equal(exitCodeFromStatus('Exited (0) 3 seconds ago'), 0);
  assert.equal(exitCodeFromStatus('Exited (137) About a minute ago'), 137);
  assert.equal(exitCodeFromStatus('Up 4 days'), -1);
  assert.equal(exitCodeFromStatus(''), -1);
});

/** A fake engine on a unix socket: answers /version with `answer.current`, refuses versions below its
 *  minimum as Docker does, and records every path asked. */
async function fakeEngine(answer: { current: VersionAnswer }, onRequest?: (req: IncomingMessage, res: ServerResponse) => boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-engine-test-'));
  const socket = join(dir, 'docker.sock');
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    if (onRequest?.(req, res)) return;
    const json = (status: number, body: unknown) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    const url = new URL(req.url ?? '/', 'http://docker');
    if (url.pathname === '/version') return json(200, answer.current);
    const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(url.pathname);
    if (!m) return json(404, { message: 'page not found' });
    const [, version, rest] = m as unknown as [string, string, string];
    if (answer.current.MinAPIVersion && compareVersions(version, answer.current.MinAPIVersion) < 0) {
      return json(400, { message: TOO_OLD(version, answer.current.MinAPIVersion) });
    }
    if (rest === '/version') return json(200, answer.current);
    if (rest === '/containers/json') return json(200, []);
    return json(404, { message: `no such thing: ${rest}` });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    socket, paths,
    close: () => new Promise<void>((resolve) => server.close(() => { rmSync(dir, { recursive: true, force: true }); resolve(); })),
  };
}

test('EngineApi asks /version once (shared by concurrent first calls) and prefixes every path with the negotiated version', async () => {
  for (const [answer, prefix] of [[DOCKER_20_10, '/v1.41'], [DOCKER_26_1, '/v1.45'], [DOCKER_28_5, '/v1.51'], [DOCKER_29_0, '/v1.52']] as const) {
    const engine = await fakeEngine({ current: answer });
    try {
      const api = new EngineApi(engine.socket);
      await Promise.all([1, 2, 3].map(() => api.json('GET', '/containers/json', 'list containers', { query: { all: true } })));
      await api.json('GET', '/containers/json', 'list containers');
      assert.deepEqual(engine.paths, ['/version', `${prefix}/containers/json?all=true`, `${prefix}/containers/json?all=true`,
        `${prefix}/containers/json?all=true`, `${prefix}/containers/json`], answer.Version);
      assert.equal(await api.version(), prefix.slice(2));
      // the fake engine may answer /_ping with an error: only the path it was asked matters here
      await api.buffer('GET', '/_ping', 'ping', { unversioned: true }).catch((e: Error) => assert.match(e.message, /ping/));
      assert.equal(engine.paths.at(-1), '/_ping');
    } finally {
      await engine.close();
    }
  }
});

test('EngineApi refuses a too-new engine with the clear error, on every call', async () => {
  const engine = await fakeEngine({ current: { Version: '40.0.0', ApiVersion: '1.70', MinAPIVersion: '1.60' } });
  try {
    const api = new EngineApi(engine.socket);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(api.json('GET', '/containers/json', 'list containers'), (e: BerthError) => {
        assert.equal(e.code, 'unavailable');
        assert.match(e.message, /accepts Engine API 1\.60 and newer only/);
        assert.match(e.hint ?? '', /DOCKER_MIN_API_VERSION/);
        return true;
      });
    }
    assert.ok(engine.paths.every((p) => p === '/version'), engine.paths.join(' '));
  } finally {
    await engine.close();
  }
});

test('EngineApi does not keep a failed negotiation: the engine may be starting', async () => {
  let fail = true;
  const engine = await fakeEngine({ current: DOCKER_29_0 }, (req, res) => {
    if (req.url === '/version' && fail) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"message":"starting"}');
      return true;
    }
    return false;
  });
  try {
    const api = new EngineApi(engine.socket);
    await assert.rejects(api.json('GET', '/containers/json', 'list containers'), /starting/);
    fail = false;
    assert.deepEqual(await api.json('GET', '/containers/json', 'list containers'), []);
    assert.deepEqual(engine.paths, ['/version', '/version', '/v1.52/containers/json']);
  } finally {
    await engine.close();
  }
  const gone = new EngineApi(join(tmpdir(), 'berth-no-such-engine.sock'));
  await assert.rejects(gone.version(), (e: BerthError) =>
    e.code === 'unavailable' && /cannot reach Docker Engine/.test(e.message) && e.hint === 'start it with: berth up');
});

test('EngineApi renegotiates when the engine was replaced by one that refuses the version in use', async () => {
  const answer = { current: DOCKER_20_10 };
  const engine = await fakeEngine(answer);
  try {
    const api = new EngineApi(engine.socket);
    await api.json('GET', '/containers/json', 'list containers');
    answer.current = DOCKER_29_0; // upgraded in place: 1.41 is now refused
    assert.deepEqual(await api.json('GET', '/containers/json', 'list containers'), []);
    assert.deepEqual(engine.paths, ['/version', '/v1.41/containers/json', '/v1.41/containers/json', '/version', '/v1.52/containers/json']);
    assert.equal(await api.version(), '1.52');
  } finally {
    await engine.close();
  }
});
