// Operating an app: logs (and following them), release commands, dry runs, the audit trail.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BIN, ensureSample, Platform, SAMPLE, until } from '../helpers/platform.js';

const p = new Platform();

before(async () => {
  await p.up();
  await ensureSample(p);
  await p.ok(['apps', 'create', 'ops', '--domain', 'ops.localhost']);
});
after(() => p.destroy());

test('--dry-run prints the plan and changes nothing', async () => {
  const r = await p.json<{ state: string; steps: string[] }>(['deploy', 'ops', '--image', SAMPLE, '--dry-run']);
  assert.equal(r.state, 'planned');
  assert.match(r.steps.join('\n'), new RegExp(`pull ${SAMPLE}[\\s\\S]*health[\\s\\S]*send traffic`));
  assert.deepEqual(await p.json(['releases', 'ops']), []);
});

test('a release command runs before start; when it fails, nothing changes', async () => {
  const r = await p.ok(['deploy', 'ops', '--image', SAMPLE, '--release-command', 'node /app/server.js migrate']);
  assert.match(r.stderr, /release_command .*exit 0/);
  await p.ok(['config', 'set', 'ops', 'MIGRATE_FAIL=true', 'VERSION=v2', '--no-deploy']);
  const bad = await p.berth(['deploy', 'ops', '--release-command', 'node /app/server.js migrate']);
  assert.equal(bad.code, 8, bad.stderr);
  assert.match(bad.stderr, /release command exited with 1/);
  assert.match(bad.stderr, /migrating v2/);
  assert.match((await p.get('ops.localhost')).body, /v1/);
  const leftovers = (await p.containers()).filter((c) => c.name.includes('-run-'));
  assert.deepEqual(leftovers, [], 'one-off containers are removed');
  await p.ok(['config', 'unset', 'ops', 'MIGRATE_FAIL', 'VERSION', '--no-deploy']);
});

test('a quoted release command arrives as its words: no shell, quotes kept together', async () => {
  // each argument is checked inside the one-off container; the command exits 0 only if all arrived intact
  const check = 'node -e \'const a = process.argv.slice(1); '
    + 'process.exit(a[0] === "two words" && a[1] === "it\\x27s" && a[2] === "" && a[3] === "$HOME" ? 0 : 5)\'';
  const r = await p.ok(['deploy', 'ops', '--release-command', `${check} "two words" "it's" '' '$HOME'`]);
  assert.match(r.stderr, /release_command .*exit 0/);
  const viaArgs = await p.ok(['deploy', 'ops', '--release-arg', 'node', '--release-arg', '-e',
    '--release-arg', 'process.exit(process.argv[1] === "a b" ? 0 : 5)', '--release-arg', 'a b']);
  assert.match(viaArgs.stderr, /release_command .*exit 0/);
});

test('a failing quoted release command fails the deploy before anything switches, with its output', async () => {
  const live = (await p.json<{ release: string; state: string }[]>(['releases', 'ops'])).find((x) => x.state === 'live')!.release;
  const bad = await p.berth(['deploy', 'ops', '--release-command', "node -e 'console.log(\"migration 42 broke\"); process.exit(3)'"]);
  assert.equal(bad.code, 8, bad.stderr);
  assert.match(bad.stderr, /release command exited with 3/);
  assert.match(bad.stderr, /migration 42 broke/);
  const after = await p.json<{ release: string; state: string }[]>(['releases', 'ops']);
  assert.equal(after.find((x) => x.state === 'live')!.release, live, 'a release went live');
  assert.equal((await p.get('ops.localhost')).status, 200);
});

test('a release command a shell would read differently is refused before anything runs', async () => {
  for (const cmd of ['rake db:migrate && rake seed', 'node x.js > out.log', "node -e 'unterminated", 'echo $SECRET']) {
    const r = await p.berth(['deploy', 'ops', '--release-command', cmd]);
    assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /release_command: /);
  }
  const both = await p.berth(['deploy', 'ops', '--release-command', 'true', '--release-arg', 'true']);
  assert.equal(both.code, 2, both.stderr);
});

test('berth logs prints the live release\'s output; -f follows new lines', async () => {
  const r = await p.ok(['logs', 'ops', '--tail', '20']);
  assert.match(r.stdout, /v1 listening on 8000/);
  const child = spawn(BIN, ['logs', 'ops', '-f', '--tail', '0'], { env: p.env() });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  try {
    await new Promise((res) => setTimeout(res, 500));
    assert.equal((await p.get('ops.localhost', '/log?msg=marker-one')).status, 204);
    await until(async () => out.includes('marker-one'), 10_000, 'the followed log to show the first marker');
    await p.get('ops.localhost', '/log?msg=marker-two');
    await until(async () => out.includes('marker-two'), 10_000, 'the followed log to show the second marker');
    assert.equal(child.exitCode, null, 'berth logs -f ended by itself');
  } finally {
    child.kill();
  }
});

test('the audit trail says who did what, when, with which result', async () => {
  const a = await p.json<{ at: string; actor: string; action: string; app: string; result: string }[]>(['audit', 'ops']);
  const actions = a.map((x) => `${x.action}:${x.result}`);
  assert.ok(actions.includes('apps.create:succeeded'), actions.join(' '));
  assert.ok(actions.includes('deploy:succeeded'), actions.join(' '));
  assert.ok(actions.includes('deploy:failed'), actions.join(' '));
  assert.ok(actions.includes('config.change:succeeded'), actions.join(' '));
  assert.ok(a.every((x) => x.actor.startsWith('tester@') && !Number.isNaN(Date.parse(x.at))));
});
