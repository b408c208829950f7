// berth up is idempotent and repairs what was removed by hand; the daemon restores apps and
// routes after the proxy or an app container goes away, without anyone acting.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonClient } from '../../src/daemon/client.js';
import { docker, ensureSample, Platform, REPO, SAMPLE, until } from '../helpers/platform.js';

const p = new Platform();
const host = 'plat.localhost';
const serves = async () => (await p.get(host).catch(() => ({ status: 0, body: '' }))).status === 200;

before(async () => {
  await p.up();
  await ensureSample(p);
  await p.ok(['apps', 'create', 'plat', '--domain', host]);
  await p.ok(['deploy', 'plat', '--image', SAMPLE]);
});
after(() => p.destroy());

test('a second berth up changes nothing', async () => {
  const r = await p.json<{ steps: { step: string; result: string }[] }>(['up', '--instance', p.instance, '--http-port', String(p.httpPort), '--https-port', String(p.httpsPort), '--bind', '127.0.0.1']);
  for (const s of r.steps) assert.match(s.result, /^(ok|running)$/, `${s.step}: ${s.result}`);
  assert.ok(await serves());
});

test('the proxy container and the network removed by hand are repaired by berth up', async () => {
  await docker.getContainer(`${p.instance}-caddy`).remove({ force: true });
  for (const c of await p.containers()) {
    await docker.getNetwork(p.instance).disconnect({ Container: c.name, Force: true }).catch(() => undefined);
  }
  await docker.getNetwork(p.instance).remove();
  assert.equal(await serves(), false);
  const r = await p.json<{ steps: { step: string; result: string }[] }>(['up', '--instance', p.instance, '--http-port', String(p.httpPort), '--https-port', String(p.httpsPort), '--bind', '127.0.0.1']);
  const by = Object.fromEntries(r.steps.map((s) => [s.step, s.result]));
  assert.match(by.network!, /created/);
  assert.equal(by.proxy, 'created');
  // the app is on a network of its own, which nothing touched: it served on, nothing to restart
  assert.doesNotMatch(by.apps!, /restarted/);
  assert.ok(await serves());
});

test('the proxy restarted: routes come back from its config file', async () => {
  await docker.getContainer(`${p.instance}-caddy`).restart({ t: 1 });
  await until(serves, 20_000, 'the app to serve after a proxy restart');
});

test('an app container removed by hand is restored by the daemon on its own', async () => {
  const serving = (await p.containers()).find((c) => c.app === 'plat' && c.name === `${p.instance}-plat-web`)!;
  await docker.getContainer(serving.name).remove({ force: true });
  await until(serves, 40_000, 'the daemon to restore the app (it reconciles every 15 s)');
  const s = await p.json<{ apps: { name: string; status: string; release: string }[] }>(['status']);
  assert.deepEqual(s.apps.map((a) => [a.name, a.status, a.release]), [['plat', 'running', 'v1']]);
});

test('the daemon killed outright: the app keeps serving, and berth up brings the daemon back', async () => {
  p.killDaemon('SIGKILL');
  assert.ok(await serves());
  const r = await p.json<{ steps: { step: string; result: string }[] }>(['up', '--instance', p.instance, '--http-port', String(p.httpPort), '--https-port', String(p.httpsPort), '--bind', '127.0.0.1']);
  assert.equal(r.steps.find((s) => s.step === 'daemon')!.result, 'started');
  const s = await p.json<{ docker: { ok: boolean }; proxy: { ok: boolean; routes: number }; apps: { name: string; status: string }[] }>(['status']);
  assert.ok(s.docker.ok && s.proxy.ok);
  assert.deepEqual(s.apps.map((a) => [a.name, a.status]), [['plat', 'running']]);
});

test('a second daemon for the same data root: the first stops acting within seconds, nothing is disturbed', async () => {
  const first = p.daemonPid()!;
  const second = spawn(process.execPath, ['--jitless', join(REPO, 'dist', 'src', 'daemon', 'main.js'), '--root', p.root], { env: p.env(), stdio: 'ignore', detached: true });
  second.unref();
  await until(async () => p.daemonPid() === second.pid, 20_000, 'the second daemon to claim the data root');
  // the first one notices at its next timer (every 5 s) and exits
  await until(async () => { try { process.kill(first, 0); return false; } catch { return true; } }, 15_000, `the superseded daemon (pid ${first}) to exit`);
  const s = await p.json<{ daemon: { pid: number }; apps: { name: string; status: string }[] }>(['status']);
  assert.equal(s.daemon.pid, second.pid, 'the API is not answered by the new daemon');
  assert.deepEqual(s.apps.map((a) => [a.name, a.status]), [['plat', 'running']]);
  assert.ok(await serves());
});

test('a superseded daemon stopped with SIGTERM leaves the new daemon\'s socket alone', async () => {
  const byHand = (name: string) => {
    const log = openSync(join(p.root, 'logs', `${name}.log`), 'w');
    const child = spawn(process.execPath, ['--jitless', join(REPO, 'dist', 'src', 'daemon', 'main.js'), '--root', p.root],
      { env: p.env(), stdio: ['ignore', log, log], detached: true });
    child.unref();
    closeSync(log);
    return child.pid!;
  };
  // answering: started up (its pid file is written first of all, its signal handlers later)
  // asked with a short timeout: a stopped daemon's socket takes the connection and never answers
  const answers = async (pid: number) => {
    try {
      return (await new DaemonClient(join(p.root, 'run', 'berth.sock'), 2000).call<{ pid: number }>('GET', '/health')).pid === pid;
    } catch {
      return false; // nobody listening yet, or another daemon does
    }
  };
  const answering = (pid: number) => until(() => answers(pid), 20_000, `daemon ${pid} to answer`);
  const old = byHand('superseded');
  await answering(old);
  await sleep(2000); // its start-up's work done: it holds no write of the state when stopped
  // Held still until the new daemon listens: left running, it notices the new pid file within
  // 0.5 s and exits by itself, long before the new one listens (and the signal may find it gone:
  // CI, kill ESRCH). Continued, it runs its overdue owner check and the signal's handler, in an
  // order of Node's choosing: each must leave the socket path, now the new daemon's, alone.
  const gone = () => { try { process.kill(old, 0); return false; } catch { return true; } };
  process.kill(old, 'SIGSTOP');
  const fresh = byHand('fresh');
  try {
    await answering(fresh); // the socket path is the new daemon's now
    process.kill(old, 'SIGTERM'); // e.g. an operator stopping what they think is the daemon
    process.kill(old, 'SIGCONT');
    await until(async () => gone(), 10_000, 'the old daemon to exit');
  } finally {
    if (!gone()) process.kill(old, 'SIGKILL'); // never left stopped for good
  }
  const said = readFileSync(join(p.root, 'logs', 'superseded.log'), 'utf8');
  const why = /"msg":"(berth daemon stopping|another daemon owns this data root now[^"]*)"/;
  assert.match(said, why, `the old daemon did not say why it stopped:\n${said.slice(-800)}`);
  console.log(`# the superseded daemon stopped by ${/"signal":"SIGTERM"/.test(said) ? 'the signal' : 'its owner check'}`);
  assert.ok(existsSync(join(p.root, 'run', 'berth.sock')), 'the socket path is gone');
  await answering(fresh);
});

test('berth up puts a daemon running without a supervisor under one, and restarts it under one for new settings', async () => {
  // the daemon now is the one started by hand above; the supervised one it superseded took its supervisor along
  assert.deepEqual(p.supervisors(), [], 'a supervisor outlived its superseded daemon');
  const upArgs = ['up', '--instance', p.instance, '--http-port', String(p.httpPort), '--https-port', String(p.httpsPort), '--bind', '127.0.0.1'];
  const daemonStep = (r: { steps: { step: string; result: string }[] }) => r.steps.find((s) => s.step === 'daemon')!.result;
  assert.equal(daemonStep(await p.json(upArgs)), 'restarted under a supervisor');
  const first = p.supervisors();
  assert.equal(first.length, 1);
  assert.equal(daemonStep(await p.json([...upArgs, '--warm', '5m'])), 'restarted with the new settings');
  const second = p.supervisors();
  assert.equal(second.length, 1, `supervisors: ${second.join(', ')}`);
  assert.notEqual(second[0], first[0], 'the supervisor of the old settings still runs');
  // and it supervises: the daemon killed comes back by itself
  const old = p.daemonPid();
  p.killDaemon('SIGKILL', { supervisor: 'keep' });
  await until(async () => p.daemonPid() !== old && (await p.berth(['status', '--json'])).code === 0, 10_000, 'the daemon to come back by itself');
  assert.ok(await serves());
});
