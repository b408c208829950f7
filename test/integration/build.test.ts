// Builds from source against the real Docker Engine and Caddy: `berth deploy NAME --build DIR`
// as a user runs it (BuildKit through docker-buildx, as berth up fetched it), then the engine's
// classic builder driven directly (where no buildx is there).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { DockerBuilder } from '../../src/runtime/build/docker-builder.js';
import { findBuildx } from '../../src/runtime/build/buildx-install.js';
import type { BerthError } from '../../src/lib/errors.js';
import { EngineApi } from '../../src/runtime/docker/engine-api.js';
import { writeContext } from '../helpers/build-context.js';
import { BIN, docker, Platform, platformWithApps, SAMPLE, until } from '../helpers/platform.js';

const p = new Platform();
const app = 'built';
const host = `${app}.localhost`;
let src = '';
type Release = { release: string; state: string; image: string; image_id: string };
const releases = () => p.json<Release[]>(['releases', app]);
type Served = { info: { stage: string; greeting?: string }; files: string[]; version: string; release: string };
const served = async () => JSON.parse((await p.get(host)).body) as Served;

before(async () => {
  await platformWithApps(p, [app], { deploy: false });
  src = writeContext(SAMPLE);
});
after(async () => {
  rmSync(src, { recursive: true, force: true });
  await p.destroy();
});

test('berth up fetched docker-buildx, and builds use BuildKit', async () => {
  const r = await p.up();
  assert.match(r.stderr, /builds use BuildKit through github\.com\/docker\/buildx 0\.29\.1/);
  assert.match(r.stderr, /✓ builder: ok/); // a second berth up changes nothing
  assert.ok(findBuildx(), 'no docker-buildx after berth up');
});

test('deploy --build: the log streams, .dockerignore keeps files out, build args and the target stage arrive', async () => {
  const r = await p.ok(['deploy', app, '--build', src, '--build-arg', 'GREETING=hello-arg', '--target', 'prod']);
  assert.match(r.stdout, /built v1 is live/);
  assert.match(r.stderr, /#\d+ \[deps 2\/2\] RUN/, 'BuildKit steps in the progress');
  assert.match(r.stderr, /✓ build \(\d+ ms\): berth\/built:build-[0-9a-f]{16} \(sha256:/);
  assert.match(r.stderr, /build steps run at CPU weight/);
  const s = await served();
  assert.deepEqual(s.info, { stage: 'prod', greeting: 'hello-arg' });
  assert.equal(s.version, 'one');
  // ignored: secret.env, node_modules, debug.log; kept: keep.log (an exception to *.log)
  assert.deepEqual(s.files, ['.dockerignore', 'Dockerfile', 'Dockerfile.bad', 'keep.log', 'server.js', 'version.txt']);
  const [v1] = await releases();
  assert.match(v1!.image, /^berth\/built:build-[0-9a-f]{16}$/);
  assert.equal(v1!.image_id, (await docker.getImage(v1!.image).inspect()).Id);
});

test('a second deploy of the same source reuses the tag and every cached step', async () => {
  const t0 = Date.now();
  const r = await p.ok(['deploy', app, '--build', src, '--build-arg', 'GREETING=hello-arg', '--target', 'prod']);
  const ms = Date.now() - t0;
  assert.match(r.stdout, /built v2 is live/);
  assert.match(r.stderr, /#(\d+) \[deps 2\/2\] RUN[^\n]*\n(?:.*\n)*?\s*#\1 CACHED/, 'the deps step came from the cache');
  assert.doesNotMatch(r.stderr, /ran the deps step for hello-arg/, 'no step ran again'); // its output, not its definition
  assert.match(r.stderr, /is the image an earlier build of this source made/);
  const [v2, v1] = await releases();
  assert.equal(v2!.image, v1!.image);
  assert.equal(v2!.image_id, v1!.image_id);
  assert.ok(ms < 30_000, `took ${ms} ms`);
});

test('a failing RUN step changes nothing: no release, the live one serves, the CLI shows the step\'s output', async () => {
  const before = await releases();
  const r = await p.berth(['deploy', app, '--build', src, '--dockerfile', 'Dockerfile.bad']);
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /error: deploy #\d+ of built failed: build failed: .*exit code: 3/);
  assert.match(r.stderr, /last lines of the failing build step:\n(?:.*\n)*\s*\| .*compiling assets\n(?:.*\n)*\s*\| .*error: assets\/app\.css: unexpected \}/);
  assert.match(r.stderr, /hint: v2 keeps serving/);
  assert.deepEqual(await releases(), before);
  assert.equal((await served()).release, 'v2');
});

test('a changed source gets a new tag; a rollback runs exactly the earlier image, and tags never move', async () => {
  const [v2] = await releases();
  writeFileSync(join(src, 'version.txt'), 'two');
  // a file .dockerignore leaves out changes nothing: same tag (checked by its hash below)
  writeFileSync(join(src, 'secret.env'), 'PASSWORD=changed');
  await p.ok(['deploy', app, '--build', src, '--build-arg', 'GREETING=hello-arg', '--target', 'prod']);
  const [v3] = await releases();
  assert.notEqual(v3!.image, v2!.image);
  assert.notEqual(v3!.image_id, v2!.image_id);
  assert.equal((await served()).version, 'two');
  await p.ok(['rollback', app]);
  const live = (await releases()).find((r) => r.state === 'live')!;
  assert.equal(live.release, 'v2');
  assert.equal(live.image_id, v2!.image_id);
  assert.equal((await served()).version, 'one');
  assert.equal((await docker.getImage(v2!.image).inspect()).Id, v2!.image_id, 'the earlier tag still names the earlier image');
  // the ignored file's change alone would not have made a new tag
  writeFileSync(join(src, 'version.txt'), 'one');
  const again = await p.ok(['deploy', app, '--build', src, '--build-arg', 'GREETING=hello-arg', '--target', 'prod']);
  assert.match(again.stderr, new RegExp(`✓ build \\(\\d+ ms\\): ${v2!.image.replace(/[/.]/g, '\\$&')} `));
});

for (const how of ['deploy --abort', 'Ctrl-C in the CLI'] as const) test(`${how} cancels a running build: nothing changes`, async () => {
  const token = `abort-${Date.now()}`;
  const slow = writeContext(SAMPLE, { sleepMs: 60_000, token });
  const stepRuns = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).some((pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(token); } catch { return false; } // gone meanwhile
  });
  try {
    const before = await releases();
    const child = spawn(BIN, ['deploy', app, '--build', slow], { env: p.env() });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number>((res) => child.on('close', (code) => res(code ?? -1)));
    await until(async () => /#\d+ [\d.]+ sleeping 60000 ms/.test(stderr), 60_000, 'the slow step to start'); // its output, not its definition
    assert.ok(stepRuns(), 'the RUN step is a process on this host');
    const t0 = Date.now();
    if (how === 'deploy --abort') await p.ok(['deploy', app, '--abort']);
    else child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 9, stderr);
    assert.ok(Date.now() - t0 < 20_000, 'the build stopped soon after the abort');
    assert.match(stderr, /cancelled/);
    await until(async () => !stepRuns(), 15_000, 'BuildKit to stop the cancelled step');
    assert.deepEqual(await releases(), before);
    assert.equal((await served()).release, (before.find((r) => r.state === 'live'))!.release);
  } finally {
    rmSync(slow, { recursive: true, force: true });
  }
});

test('the engine\'s classic builder (no buildx): .dockerignore, args, target, cache, and the failing step\'s output', async () => {
  const dir = writeContext(SAMPLE, { version: `classic-${Date.now()}` });
  const state = join(p.root, 'classic-build');
  const b = new DockerBuilder(new EngineApi(), { stateDir: state, buildx: null });
  const lines: string[] = [];
  const signal = new AbortController().signal;
  try {
    const greeting = `from-classic-${Date.now()}`; // a step never run before: its output shows
    const req = { app: 'classic', context: dir, args: { GREETING: greeting }, target: 'prod' };
    const first = await b.build(req, (l) => lines.push(l), signal);
    assert.equal(first.builder, 'engine');
    assert.match(first.tag, /^berth\/classic:build-[0-9a-f]{16}$/);
    assert.ok(lines.some((l) => l.includes(`ran the deps step for ${greeting}`)), lines.join('\n'));
    const run = (script: string) => new Promise<string>((res, rej) => {
      const c = spawn('docker', ['run', '--rm', '--entrypoint', '/usr/bin/node', first.imageId, '-e', script]);
      let out = '';
      c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      c.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`docker run exited ${code}`))));
    });
    const seen = JSON.parse(await run("const fs = require('fs'); console.log(JSON.stringify({ files: fs.readdirSync('/app/src').sort(), "
      + "info: JSON.parse(fs.readFileSync('/app/build-info.json', 'utf8')) }))")) as { files: string[]; info: unknown };
    assert.deepEqual(seen.files, ['.dockerignore', 'Dockerfile', 'Dockerfile.bad', 'keep.log', 'server.js', 'version.txt']);
    assert.deepEqual(seen.info, { stage: 'prod', greeting });
    lines.length = 0;
    const second = await b.build(req, (l) => lines.push(l), signal);
    assert.equal(second.imageId, first.imageId);
    assert.equal(second.tag, first.tag);
    assert.ok(lines.filter((l) => /Using cache/.test(l)).length >= 3, lines.join('\n'));
    assert.ok(!lines.some((l) => l.includes(`ran the deps step for ${greeting}`)), 'no step ran again');
    const failed = await b.build({ ...req, dockerfile: 'Dockerfile.bad', target: undefined }, () => undefined, signal).then(
      () => assert.fail('the failing build succeeded'), (e: BerthError) => e);
    assert.equal(failed.code, 'command_failed');
    const logs = (failed.details as { logs: string[] }).logs.join('\n');
    assert.match(logs, /Step 2\/\d+ : RUN/);
    assert.match(logs, /compiling assets/);
    assert.match(logs, /error: assets\/app\.css: unexpected \}/);
    await docker.getImage(first.tag).remove({ force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
