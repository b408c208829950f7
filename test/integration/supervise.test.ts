// The daemon supervised where there is no systemd (as on this machine): killed with SIGKILL it is
// back within 2 s with nobody acting, its recovery resolves the deploy it was in (and stops the
// release command that deploy ran), and a CLI that lost it mid-deploy says so with exit 10.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.js';
import { docker, Platform, platformWithApps, until } from '../helpers/platform.js';

const p = new Platform();
const app = 'sup';
const host = `${app}.localhost`;
const BACK_WITHIN_MS = 2000;
const LOST = /lost the daemon; it restarts by itself; the deploy is rolled back or finished: see berth status/;

before(() => platformWithApps(p, [app]));
after(() => p.destroy());

const daemon = () => new DaemonClient(join(p.root, 'run', 'berth.sock'), 1000);
const served = async () => (await p.get(host)).body.trim().split(' ').pop();

/** Kills the daemon alone (its supervisor stays) and returns how long until a new one answers. */
async function killAndTimeReturn(): Promise<number> {
  const old = p.daemonPid();
  p.killDaemon('SIGKILL', { supervisor: 'keep' });
  const t0 = Date.now();
  await until(async () => p.daemonPid() !== old && await daemon().alive(), 15_000, 'the daemon to come back by itself');
  const ms = Date.now() - t0;
  process.stdout.write(`# daemon answering again ${ms} ms after kill -9\n`);
  return ms;
}

test('the daemon killed with SIGKILL is back within 2 s with nobody acting; berth up starts no second supervisor', async () => {
  assert.equal(p.supervisors().length, 1, 'berth up started no supervisor');
  const ms = await killAndTimeReturn();
  assert.ok(ms < BACK_WITHIN_MS, `the daemon came back after ${ms} ms`);
  assert.equal((await p.get(host)).status, 200);
  const sup = p.supervisorPid();
  const r = await p.json<{ steps: { step: string; result: string }[] }>(['up', '--instance', p.instance, '--http-port', String(p.httpPort),
    '--https-port', String(p.httpsPort), '--bind', '127.0.0.1']);
  for (const s of r.steps) assert.match(s.result, /^(ok|running)$/, `${s.step}: ${s.result}`);
  assert.deepEqual(p.supervisors(), [sup]);
});

test('killed while a release command runs: the one-off container is stopped and removed, the deploy rolled back', async () => {
  const old = await served();
  await p.ok(['config', 'set', app, 'VERSION=never', '--no-deploy']);
  const deploy = p.berth(['deploy', app, '--release-command', "node -e 'setTimeout(()=>{},600000)'"]);
  const oneOffs = async () => docker.listContainers({ all: true, filters: { label: [`berth.instance=${p.instance}`, 'berth.role=one-off'] } });
  await until(async () => (await oneOffs()).some((c) => c.State === 'running'), 60_000, 'the release command to run');
  await killAndTimeReturn();
  const cli = await deploy;
  assert.equal(cli.code, 10, cli.stderr);
  assert.match(cli.stderr, LOST);
  assert.deepEqual((await oneOffs()).map((c) => c.Names[0]), [], 'the release command runs on after its deploy was rolled back');
  assert.deepEqual((await p.json<{ deploys: unknown[] }>(['status'])).deploys, []);
  assert.equal(await served(), old);
});

test('killed mid-deploy (at the health check): the CLI exits 10, the restarted daemon rolls the deploy back', async () => {
  p.killDaemon('SIGKILL'); // supervisor and daemon: berth up starts both again, with the test hook
  const marker = join(p.root, 'run', 'paused');
  rmSync(marker, { force: true });
  await p.up([], { BERTH_TEST_PAUSE_AT: 'health' });
  const old = await served();
  await p.ok(['config', 'set', app, 'VERSION=interrupted', '--no-deploy']);
  const deploy = p.berth(['deploy', app]);
  await until(async () => existsSync(marker) && readFileSync(marker, 'utf8') === 'health', 60_000, 'the deploy to pause at its health check');
  const ms = await killAndTimeReturn();
  assert.ok(ms < BACK_WITHIN_MS, `the daemon came back after ${ms} ms`);
  const cli = await deploy;
  assert.equal(cli.code, 10, cli.stderr);
  assert.match(cli.stderr, LOST);
  assert.deepEqual((await p.json<{ deploys: unknown[] }>(['status'])).deploys, [], 'the interrupted deploy is still marked running');
  assert.equal(await served(), old);
  const audit = await p.json<{ action: string; result: string }[]>(['audit', app]);
  assert.ok(audit.some((a) => a.action === 'deploy.recover' && a.result === 'rolled back'), JSON.stringify(audit.slice(0, 3)));
});
