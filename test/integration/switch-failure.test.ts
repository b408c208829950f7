// A switch that fails half way puts the old release back before it returns (kamal-proxy's rule:
// a failed deploy leaves the old state untouched). A test hook holds the deploy between the two
// halves of the switch; the test takes the new release's container away there, so the second
// half fails; the old release must serve at once, with no failed request.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.js';
import { Load } from '../helpers/load.js';
import { docker, Platform, platformWithApps, until } from '../helpers/platform.js';

const p = new Platform();
const host = 'sw.localhost';
const marker = () => join(p.root, 'run', 'paused');
const daemon = () => new DaemonClient(join(p.root, 'run', 'berth.sock'), 2000);

before(async () => {
  await platformWithApps(p, ['sw']);
  await p.ok(['config', 'set', 'sw', 'VERSION=old']);
});
after(() => p.destroy());

const holdAt = (step: string) => p.restartDaemonWith({ BERTH_TEST_PAUSE_AT: step, BERTH_TEST_HOLD: '1' });

test('the second half of a switch fails: the old release serves again before the deploy returns', async () => {
  await holdAt('switch.mid');
  const load = new Load({ port: p.httpsPort, host, ca: p.caRoot }, 2);
  try {
    await failedSwitch(load);
  } finally {
    await load.stop();
    p.killDaemon('SIGKILL');
    p.startDaemon({});
    await until(() => daemon().alive(), 20_000, 'the daemon');
  }
});

async function failedSwitch(load: Load) {
  const deploy = p.berth(['config', 'set', 'sw', 'VERSION=new']);
  await until(async () => existsSync(marker()) && readFileSync(marker(), 'utf8') === 'switch.mid', 30_000, 'the deploy to hold mid-switch');
  const fresh = (await p.containers()).find((c) => c.app === 'sw' && c.release === 'v3');
  assert.ok(fresh, 'no container of the new release');
  await docker.getContainer(fresh.name).remove({ force: true }); // the second rename now fails
  rmSync(marker());
  const r = await deploy;
  assert.notEqual(r.code, 0, `the deploy reported success: ${r.stdout}`);
  const right = await p.get(host, '/', 3000).catch((e: Error) => ({ status: 0, body: e.message }));
  assert.equal(right.status, 200, `the old release does not serve right after the failed switch: ${right.body}`);
  assert.match(right.body, /old/);
  const res = await load.stop();
  assert.equal(res.failed, 0, `requests failed: ${JSON.stringify(res.failures)}`);
  const cs = (await p.containers()).filter((c) => c.app === 'sw');
  assert.equal(cs.find((c) => c.name === `${p.instance}-sw-web`)?.release, 'v2', `the old release is not back under the serving name: ${JSON.stringify(cs)}`);
  assert.ok(!cs.some((c) => c.release === 'v3'), `the failed release left a container: ${JSON.stringify(cs)}`);
  const releases = await p.json<{ release: string; state: string }[]>(['releases', 'sw']);
  assert.deepEqual(releases.filter((r) => r.state === 'live').map((r) => r.release), ['v2']);
}
