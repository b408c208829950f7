// SIGKILL the daemon at each step of a deploy (a test hook pauses it there), start it again,
// and check: the app served throughout, the deploy was finished or rolled back, exactly the
// live and warm releases have containers, and nothing is locked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.js';
import { Load } from '../helpers/load.js';
import { Platform, platformWithApps, settledReleases, until } from '../helpers/platform.js';

const p = new Platform();
const host = 'crash.localhost';

before(async () => {
  await platformWithApps(p, ['crash']);
  await p.ok(['config', 'set', 'crash', 'VERSION=base']);
});
after(() => p.destroy());

const marker = () => join(p.root, 'run', 'paused');
const daemon = () => new DaemonClient(join(p.root, 'run', 'berth.sock'), 2000);

const restartWithHook = (step: string) => p.restartDaemonWith({ BERTH_TEST_PAUSE_AT: step });

// step at which the daemon dies -> which version serves afterwards
const cases: [string, 'old' | 'new', string[]][] = [
  ['pull', 'old', []],
  ['start', 'old', []],
  ['health', 'old', []],
  ['route', 'old', ['--port', '8001']],
  ['switch.mid', 'old', []],
  ['switch.renamed', 'new', []], // the runtime had switched: recorded, not undone
  ['settle', 'new', []],
  ['retire', 'new', []],
];

for (const [step, expect, extra] of cases) {
  test(`daemon killed at ${step}: the app keeps serving and the deploy is ${expect === 'old' ? 'rolled back' : 'finished'}`, async () => {
    const old = (await p.get(host)).body.trim().split(' ').pop();
    const version = `at-${step.replace('.', '-')}`;
    await restartWithHook(step);
    const load = new Load({ port: p.httpsPort, host, ca: p.caRoot }, 2);
    await p.ok(['config', 'set', 'crash', `VERSION=${version}`, '--no-deploy']);
    const deploy = p.berth(['deploy', 'crash', ...extra]);
    await until(async () => existsSync(marker()) && readFileSync(marker(), 'utf8') === step, 30_000, `the deploy to pause at ${step}`);
    p.killDaemon('SIGKILL');
    const cli = await deploy;
    assert.equal(cli.code, 10, `the CLI must say it lost the daemon: ${cli.stderr}`);
    assert.match(cli.stderr, /lost the daemon; it restarts by itself/);
    // Start it again without the hook, as systemd would (Restart=always); once through
    // `berth up`, which also starts a dead daemon.
    if (step === 'start') await p.up();
    else {
      p.startDaemon({});
      await until(() => daemon().alive(), 20_000, 'the restarted daemon');
    }
    const res = await load.stop();
    assert.equal(res.failed, 0, `requests failed: ${JSON.stringify(res.failures)}`);
    const served = (await p.get(host)).body.trim().split(' ').pop();
    assert.equal(served, expect === 'old' ? old : version);

    const status = await p.json<{ deploys: unknown[] }>(['status']);
    assert.deepEqual(status.deploys, [], 'a deploy is still marked running');
    const releases = await p.json<{ release: string; state: string }[]>(['releases', 'crash']);
    assert.equal(releases.filter((r) => r.state === 'live').length, 1, JSON.stringify(releases));
    assert.ok(!releases.some((r) => r.state === 'pending'), JSON.stringify(releases));
    await settledReleases(p, 'crash');
    const deploys = await p.json<{ state: string; error: string | null }[]>(['audit', 'crash']);
    assert.ok(deploys.length > 0);
    // the next deploy is not blocked by a stale lock
    await p.ok(['config', 'set', 'crash', `VERSION=after-${version}`]);
    assert.match((await p.get(host)).body, new RegExp(`after-${version}`));
  });
}
