// berth run: a command in a one-off container of the live release, on a real platform: output
// streamed as it comes, exit codes passed through, the app's env and network, Ctrl-C, errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.js';
import { CONTROL, frame, frameReader, STDOUT } from '../../src/lib/frames.js';
import { BIN, ensureSample, Platform, SAMPLE, until } from '../helpers/platform.js';

const p = new Platform();
const daemon = () => new DaemonClient(join(p.root, 'run', 'berth.sock'), 10_000);

before(async () => {
  await p.up();
  await ensureSample(p);
  await p.ok(['apps', 'create', 'runner', '--domain', 'runner.localhost']);
  await p.ok(['apps', 'create', 'idle', '--domain', 'idle.localhost', '--no-db', '--no-redis', '--no-bucket']);
  await p.ok(['deploy', 'runner', '--image', SAMPLE, '--process', "worker=node -e 'setInterval(() => {}, 1000)'"]);
  await p.ok(['config', 'set', 'runner', 'GREETING=hello-from-config']);
});
after(() => p.destroy());

/** berth run as a child, with when each piece of stdout arrived. */
function spawnRun(args: string[]) {
  const child = spawn(BIN, ['run', ...args], { env: p.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: { at: number; text: string }[] = [];
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => chunks.push({ at: Date.now(), text: d }));
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const done = new Promise<{ code: number | null; at: number }>((r) => child.once('close', (code) => r({ code, at: Date.now() })));
  return { child, chunks, stdout: () => chunks.map((c) => c.text).join(''), stderr: () => stderr, done };
}

test('output streams as it comes, and the exit code is berth\'s: 3, then 0', async () => {
  const r = spawnRun(['runner', '--', 'node', '-e', 'console.log("first"); setTimeout(() => { console.log("second"); process.exit(3); }, 2000)']);
  const end = await r.done;
  assert.equal(end.code, 3, r.stderr());
  const first = r.chunks.find((c) => c.text.includes('first'));
  assert.ok(first, `no output: ${r.stdout()} ${r.stderr()}`);
  assert.ok(end.at - first.at >= 1500, `"first" arrived ${end.at - first.at} ms before the end: not streamed`);
  assert.match(r.stdout(), /first\n[^]*second\n/);
  const ok = await p.berth(['run', 'runner', '--', 'node', '-e', 'process.stdout.write("fine")']);
  assert.deepEqual([ok.code, ok.stdout], [0, 'fine']);
  const json = await p.berth(['run', 'runner', '--json', '--', 'node', '-e', 'console.log("to stderr"); process.exit(4)']);
  assert.equal(json.code, 4);
  const outcome = JSON.parse(json.stdout) as { exit_code: number; ms: number; release: string; process: string };
  assert.deepEqual([outcome.exit_code, outcome.release, outcome.process], [4, 'v2', 'web']);
  assert.match(json.stderr, /to stderr/);
  assert.deepEqual((await p.containers()).filter((c) => c.name.includes('-run-')), [], 'one-off containers are removed');
});

test('the command sees the app\'s env (config and DATABASE_URL), no shell in between', async () => {
  const r = await p.ok(['run', 'runner', '--', 'node', '-e',
    'process.stdout.write([process.env.GREETING, !!process.env.DATABASE_URL, process.argv[1]].join(" "))',
    '$HOME && x']);
  assert.equal(r.stdout, 'hello-from-config true $HOME && x');
  const worker = await p.ok(['run', 'runner', '--process', 'worker', '--', 'node', '-e', 'process.stdout.write(process.env.GREETING)']);
  assert.equal(worker.stdout, 'hello-from-config');
});

test('the command reaches the shared PostgreSQL and Redis on the app\'s network', async () => {
  // PostgreSQL answers an SSLRequest with one byte (S or N); Redis answers AUTH and PING as the app's user
  const probe = `
    const net = require('node:net');
    const ask = (url, send, want) => new Promise((res, rej) => {
      const s = net.connect(Number(url.port), url.hostname, () => s.write(send));
      let got = Buffer.alloc(0);
      s.on('data', (d) => { got = Buffer.concat([got, d]); if (want(got)) { s.destroy(); res(got.toString()); } });
      s.on('error', rej); setTimeout(() => rej(new Error('no answer: ' + got)), 5000);
    });
    const pg = new URL(process.env.DATABASE_URL), rd = new URL(process.env.REDIS_URL);
    const ssl = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]);
    const auth = '*3\\r\\n$4\\r\\nAUTH\\r\\n$' + decodeURIComponent(rd.username).length + '\\r\\n' + decodeURIComponent(rd.username) + '\\r\\n$'
      + decodeURIComponent(rd.password).length + '\\r\\n' + decodeURIComponent(rd.password) + '\\r\\n*1\\r\\n$4\\r\\nPING\\r\\n';
    Promise.all([ask(pg, ssl, (b) => b.length >= 1), ask(rd, auth, (b) => b.toString().includes('PONG'))])
      .then(([a, b]) => { console.log('pg:' + a[0], 'redis:' + b.replace(/\\r\\n/g, ' ').trim()); }, (e) => { console.log(String(e)); process.exit(1); });`;
  const r = await p.ok(['run', 'runner', '--', 'node', '-e', probe]);
  assert.match(r.stdout, /pg:[SN] redis:\+OK \+PONG/);
});

test('Ctrl-C stops the command and removes its container', async () => {
  const r = spawnRun(['runner', '--', 'node', '-e', 'console.log("waiting"); setInterval(() => {}, 1000)']);
  await until(async () => r.stdout().includes('waiting'), 60_000, 'the command to start');
  assert.equal((await p.containers()).filter((c) => c.name.includes('-runner-run-')).length, 1);
  r.child.kill('SIGINT');
  assert.equal((await r.done).code, 130);
  await until(async () => (await p.containers()).every((c) => !c.name.includes('-run-')), 30_000, 'the one-off container to be removed');
});

test('a timeout stops the command; no live release and unknown processes are refused with the fix; each run is audited', async () => {
  const slow = await p.berth(['run', 'runner', '--timeout', '2s', '--', 'node', '-e', 'setInterval(() => {}, 1000)']);
  assert.equal(slow.code, 7, slow.stderr);
  assert.match(slow.stderr, /did not finish within 2s/);
  const idle = await p.berth(['run', 'idle', '--', 'true']);
  assert.equal(idle.code, 4);
  assert.match(idle.stderr, /idle has no live release[^]*hint: deploy it first: berth deploy idle/);
  const unknown = await p.berth(['run', 'runner', '--process', 'beat', '--', 'true']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /"beat" is not a process of runner's live release v2 \(it runs web, worker\)[^]*--process worker/);
  const none = await p.berth(['run', 'runner']);
  assert.equal(none.code, 2);
  const tty = await p.berth(['run', 'runner', '-it', '--', 'sh']);
  assert.equal(tty.code, 2);
  assert.match(tty.stderr, /the input is not a terminal: -it needs one[^]*hint: pipe input without a terminal: berth run -i runner -- sh/);
  const audit = await p.json<{ action: string; actor: string; result: string; detail: string }[]>(['audit', 'runner']);
  const runs = audit.filter((a) => a.action === 'run');
  assert.ok(runs.some((a) => a.result === 'exit 3' && JSON.parse(a.detail).argv[0] === 'node' && a.actor.startsWith('tester')), JSON.stringify(runs));
  assert.ok(runs.some((a) => a.result === 'timeout'));
  assert.ok(!JSON.stringify(audit).includes('hello-from-config'), 'the env reached the audit log');
});

test('-i: a pipe reaches the command\'s stdin, its end ends the input, the exit code comes back', async () => {
  const cat = await p.berth(['run', '-i', 'runner', '--', 'node', '-e', 'process.stdin.pipe(process.stdout)'], { input: 'line one\nline two\n' });
  assert.deepEqual([cat.code, cat.stdout], [0, 'line one\nline two\n'], cat.stderr);
  const counted = await p.berth(['run', '-i', 'runner', '--', 'node', '-e',
    'let n = 0; process.stdin.on("data", (d) => { n += d.length; }).on("end", () => { console.error("read " + n); process.exit(4); })'],
  { input: 'x'.repeat(300_000) });
  assert.deepEqual([counted.code, counted.stderr.trim()], [4, 'read 300000']);
  const unknown = await p.berth(['run', '-i', 'nosuch', '--', 'true']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /nosuch/);
  const audit = await p.json<{ action: string; result: string; detail: string }[]>(['audit', 'runner']);
  assert.ok(audit.some((a) => a.action === 'run' && JSON.parse(a.detail).interactive === true && a.result === 'exit 4'), 'the attached runs are audited');
});

test('-it: a terminal of the caller\'s size, keys to the command, its exit code back (driven through script(1))', async () => {
  // script gives berth a pseudo-terminal, as a user's shell would; its stdin is the keyboard
  const child = spawn('script', ['-qec', `stty rows 31 cols 101; exec ${BIN} run -it runner -- node`, '/dev/null'],
    { env: p.env(), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const done = new Promise<number | null>((r) => child.once('close', r));
  try {
    await until(async () => out.includes('> '), 60_000, 'the REPL\'s prompt');
    child.stdin.write('process.stdout.rows + "x" + process.stdout.columns\r');
    await until(async () => out.includes("'31x101'"), 10_000, `the terminal's size in: ${JSON.stringify(out)}`);
    child.stdin.write('6 * 7\r');
    await until(async () => out.includes('42'), 10_000, `the answer in: ${JSON.stringify(out)}`);
    child.stdin.write('process.exit(5)\r');
    assert.equal(await done, 5, out);
  } finally {
    child.kill('SIGKILL');
  }
  await until(async () => (await p.containers()).every((c) => !c.name.includes('-run-')), 30_000, 'the one-off container to be removed');
});

test('-it over the daemon\'s upgraded connection: a resize reaches the terminal; a client gone removes the container', async () => {
  const peer = await daemon().upgrade('/apps/runner/runs/attached', {
    cmd: ['node', '-e', 'const say = () => console.log("size " + process.stdout.rows + "x" + process.stdout.columns); say();'
      + ' process.stdout.on("resize", say); setInterval(() => {}, 1000)'],
    stdin: true, tty: true, rows: 20, cols: 70,
  });
  let out = '';
  peer.on('data', frameReader((stream, payload) => { if (stream === STDOUT) out += payload.toString(); }));
  await until(async () => out.includes('size 20x70'), 60_000, `the first size in: ${JSON.stringify(out)}`);
  peer.write(frame(CONTROL, JSON.stringify({ type: 'resize', rows: 40, cols: 120 })));
  await until(async () => out.includes('size 40x120'), 10_000, `the new size in: ${JSON.stringify(out)}`);
  assert.equal((await p.containers()).filter((c) => c.name.includes('-runner-run-')).length, 1);
  peer.destroy();
  await until(async () => (await p.containers()).every((c) => !c.name.includes('-run-')), 30_000, 'the one-off container to be removed');
});
