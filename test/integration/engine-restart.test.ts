// Docker Engine restarted under berth: every app's containers and routes come back without
// anyone acting. This stops and starts the machine's dockerd (as CI's, started by .ci/run).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawn, execFileSync } from 'node:child_process';
import { docker, Platform, platformWithApps, until } from '../helpers/platform.js';

const p = new Platform();
const engineUp = () => docker.ping().then(() => true, () => false);

async function restartEngine(): Promise<void> {
  if (existsSync('/run/systemd/system')) {
    execFileSync('systemctl', ['restart', 'docker']);
  } else {
    const pid = Number(readFileSync('/var/run/docker.pid', 'utf8'));
    process.kill(pid, 'SIGTERM');
    await until(async () => !(await engineUp()) && !existsSync(`/proc/${pid}`), 60_000, 'dockerd to stop');
    spawn('dockerd', [], { detached: true, stdio: ['ignore', 'ignore', 'ignore'] }).unref();
  }
  await until(engineUp, 60_000, 'dockerd to start again');
}

before(async () => {
  await platformWithApps(p, ['one', 'two']);
  await p.ok(['config', 'set', 'two', 'VERSION=v2']);
});
after(() => p.destroy());

test('after a Docker Engine restart every app serves again, with no one acting', async () => {
  await restartEngine();
  for (const app of ['one', 'two']) {
    await until(async () => (await p.get(`${app}.localhost`).catch(() => ({ status: 0 }))).status === 200, 60_000, `${app} to serve again`);
  }
  assert.match((await p.get('two.localhost')).body, /v2/);
  // the daemon notices and reports truthfully
  const s = await until(async () => {
    const st = await p.json<{ docker: { ok: boolean }; proxy: { ok: boolean }; apps: { name: string; status: string }[] }>(['status']);
    return st.docker.ok && st.proxy.ok && st.apps.every((a) => a.status === 'running') ? st : undefined;
  }, 30_000, 'status to report everything running');
  assert.deepEqual(s.apps.map((a) => a.name), ['one', 'two']);
  const releases = await p.json<{ state: string }[]>(['releases', 'two']);
  const wanted = releases.filter((r) => r.state === 'live' || r.state === 'warm').length;
  const have = (await p.containers()).filter((c) => c.app === 'two' && c.state === 'running').length;
  assert.equal(have, wanted);
});
