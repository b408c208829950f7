// The supervisor script run for real by /bin/sh, with a stand-in daemon (a tiny sh command) in
// place of the berth daemon: restarts with backoff, and the three reasons it stops for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAEMON_EXIT_SUPERSEDED } from '../daemon/exit-codes.js';
import { isSupervisorOf, runningSupervisor, SUPERVISOR_SCRIPT, supervisorArgv } from './supervisor.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(daemonScript: string) {
  const root = mkdtempSync(join(tmpdir(), 'berth-sup-'));
  writeFileSync(join(root, 'berth.json'), '{}');
  const pidFile = join(root, 'supervisor.pid');
  const runs = join(root, 'runs');
  const argv = supervisorArgv(root, pidFile, ['/bin/sh', '-c', `echo run >> "$1"; ${daemonScript}`, 'fake-daemon', runs]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const count = () => (existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean).length : 0);
  return { root, pidFile, child, exited, count, log: () => log, done: () => { child.kill('SIGKILL'); rmSync(root, { recursive: true, force: true }); } };
}

async function exitsWithin(exited: Promise<number | null>, ms: number): Promise<number | null> {
  return Promise.race([exited, sleep(ms).then(() => { throw new Error(`the supervisor still runs after ${ms} ms`); })]);
}

test('the script is a constant: paths and the daemon argv are arguments, never part of its text', () => {
  const root = "/tmp/x'; rm -rf / #$(id)";
  const argv = supervisorArgv(root, `${root}/run/supervisor.pid`, ['/usr/bin/node', 'main.js', '--root', root]);
  assert.equal(argv[2], SUPERVISOR_SCRIPT);
  assert.deepEqual(argv.slice(3), ['berth-supervisor', root, `${root}/run/supervisor.pid`, '/usr/bin/node', 'main.js', '--root', root]);
});

test('a daemon that keeps failing at start is started again with growing pauses; removing the data root stops it', async () => {
  const s = setup('exit 1');
  try {
    await sleep(1300); // runs at 0, 0.25 s and 0.75 s; the next after 1 s more
    assert.ok(s.count() >= 2 && s.count() <= 4, `${s.count()} starts in 1.3 s`);
    assert.match(s.log(), /"code":1,"delay_ms":500,/);
    assert.ok(isSupervisorOf(s.child.pid!, s.root));
    assert.equal(runningSupervisor(s.pidFile, s.root), s.child.pid);
    rmSync(join(s.root, 'berth.json'));
    const before = s.count();
    assert.equal(await exitsWithin(s.exited, 5000), 0);
    assert.equal(s.count(), before, 'a daemon of a removed data root was started');
  } finally { s.done(); }
});

test('a daemon that exits as superseded (another owns the data root) is not started again', async () => {
  const s = setup(`exit ${DAEMON_EXIT_SUPERSEDED}`);
  try {
    assert.equal(await exitsWithin(s.exited, 5000), 0);
    assert.equal(s.count(), 1);
  } finally { s.done(); }
});

test('a supervisor whose pid file names another stops (one berth up replaced it)', async () => {
  const s = setup('exit 1');
  try {
    await sleep(100);
    writeFileSync(s.pidFile, '1');
    assert.equal(await exitsWithin(s.exited, 5000), 0);
  } finally { s.done(); }
});

test('the supervisor costs under 4 MB resident while its daemon runs', async () => {
  const s = setup('sleep 5');
  try {
    await sleep(300);
    const status = readFileSync(`/proc/${s.child.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]);
    const rollup = readFileSync(`/proc/${s.child.pid}/smaps_rollup`, 'utf8');
    const privateKb = [...rollup.matchAll(/Private_(?:Clean|Dirty):\s+(\d+) kB/g)].reduce((t, m) => t + Number(m[1]), 0);
    process.stdout.write(`# supervisor resident: ${rssKb} kB, of which private (not shared with other sh processes): ${privateKb} kB\n`);
    assert.ok(rssKb < 4096, `${rssKb} kB`);
  } finally { s.done(); }
});

