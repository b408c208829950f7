// Deploys that meet each other or a release in trouble: the state read for a plan is the one
// inside the app's lock; a config change ships the live image id, not whatever its tag names
// now; and a live release that crash-loops never keeps an operator from rolling back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.js';
import { imageIdOf, sampleVariant } from '../helpers/images.js';
import { docker, Platform, platformWithApps, SAMPLE, settledReleases, sleep, until } from '../helpers/platform.js';

const p = new Platform();
const SECOND = 'berth-test/hello:second';
const RETAGGED = 'berth-test/hello:retagged';

type Release = { release: string; state: string; image: string; image_id: string | null };
const releases = (app: string) => p.json<Release[]>(['releases', app]);
const liveOf = async (app: string) => {
  const live = (await releases(app)).filter((r) => r.state === 'live');
  assert.equal(live.length, 1, `${app} has ${live.length} live releases: ${JSON.stringify(await releases(app))}`);
  return live[0]!;
};

before(async () => {
  await platformWithApps(p, ['race', 'pin', 'loop']);
  await sampleVariant(SECOND);
});
after(() => p.destroy());

test('a config change that waits behind a new-image deploy rolls out the new image, and one release is live', async () => {
  await p.ok(['config', 'set', 'race', 'STARTUP_DELAY_MS=2500', '--no-deploy']);
  const slow = p.berth(['deploy', 'race', '--image', SECOND]);
  await until(async () => (await p.json<{ deploys: { app: string }[] }>(['status'])).deploys.some((d) => d.app === 'race'), 10_000, 'the deploy to start');
  const config = await p.berth(['config', 'set', 'race', 'AFTER=1', '--lock-timeout', '60s']);
  const deployed = await slow;
  assert.equal(deployed.code, 0, deployed.stderr);
  assert.equal(config.code, 0, config.stderr);
  const live = await liveOf('race');
  assert.equal(live.image, SECOND, `the config change rolled out ${live.image}, not the image deployed before it`);
  assert.equal(live.image_id, await imageIdOf(SECOND));
});

test('a config change ships the live image id, even when its tag now names another image', async () => {
  const before = await liveOf('pin');
  // someone re-points the tag the live release was deployed from
  await docker.getImage(SECOND).tag({ repo: 'berth-test/hello', tag: 'retagged' });
  await p.ok(['deploy', 'pin', '--image', RETAGGED]);
  const deployedId = (await liveOf('pin')).image_id;
  await docker.getImage(SAMPLE).tag({ repo: 'berth-test/hello', tag: 'retagged' });
  await p.ok(['config', 'set', 'pin', 'CHANGED=1']);
  const after = await liveOf('pin');
  assert.notEqual(after.release, before.release);
  assert.equal(after.image_id, deployedId, 'a config change shipped the image the tag names now');
});

test('a live release that crash-loops: four times in a row, a rollback at once succeeds and the app serves', async () => {
  const daemon = new DaemonClient(join(p.root, 'run', 'berth.sock'), 120_000);
  for (let i = 1; i <= 4; i++) {
    // passes its health check, then exits 1 s after each start: the restart policy keeps
    // restarting it (with a growing delay), and a repair pass finds it down again and again
    // (150 ms was too short on a loaded machine: the deploy's first probe came after the exit)
    await p.ok(['config', 'set', 'loop', 'EXIT_AFTER_MS=1000', `ROUND=${i}`]);
    await sleep(4000);
    const repair = daemon.call('POST', '/reconcile').catch((e: Error) => e); // as the daemon's timer does
    await sleep(300);
    const r = await p.berth(['rollback', 'loop']);
    console.log('ROUND', i, JSON.stringify(await repair), r.code, r.stdout.slice(-300), r.stderr.slice(-600));
    assert.equal(r.code, 0, `round ${i}: rollback failed: ${r.stdout}${r.stderr}`);
    await until(async () => (await p.get('loop.localhost').catch(() => ({ status: 0 }))).status === 200, 10_000, `round ${i}: loop to serve`);
    await p.ok(['config', 'unset', 'loop', 'EXIT_AFTER_MS', 'STARTUP_DELAY_MS', '--lock-timeout', '30s']);
    const res = await p.get('loop.localhost');
    assert.equal(res.status, 200, `round ${i}: ${res.body}`);
    await settledReleases(p, 'loop');
  }
});

test('--abort stops a release command in progress at once; --release-timeout bounds it', async () => {
  const sleeper = "/usr/bin/node -e 'setTimeout(()=>{},60000)'";
  const slow = p.berth(['deploy', 'pin', '--release-command', sleeper]);
  await until(async () => (await p.json<{ deploys: { app: string; step: string }[] }>(['status'])).deploys.some((d) => d.app === 'pin' && d.step === 'release_command'),
    20_000, 'the release command to run');
  const t0 = Date.now();
  await p.ok(['deploy', 'pin', '--abort']);
  const aborted = await slow;
  assert.equal(aborted.code, 9, `not reported as aborted: ${aborted.stderr}`);
  assert.ok(Date.now() - t0 < 10_000, `the release command ran on for ${Date.now() - t0} ms after --abort`);
  const t1 = Date.now();
  const timedOut = await p.berth(['deploy', 'pin', '--release-command', sleeper, '--release-timeout', '2s']);
  assert.equal(timedOut.code, 7, `not reported as a timeout: ${timedOut.stderr}`);
  assert.ok(Date.now() - t1 < 15_000, 'the release command ran past --release-timeout');
  const oneOffs = (await docker.listContainers({ all: true, filters: { label: [`berth.instance=${p.instance}`, 'berth.role=one-off'] } }));
  assert.deepEqual(oneOffs, [], 'a one-off container was left running');
  assert.equal((await p.get('pin.localhost')).status, 200);
});
