// Deploying from a private registry (the distribution registry from Debian's docker-registry
// package, with htpasswd auth): refused without credentials, pulled with them after
// `berth registry login`, which checks them with the registry and stores them encrypted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, ensureSample, Platform, SAMPLE, until } from '../helpers/platform.js';

const p = new Platform();
const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
const port = 30000 + Math.floor(Math.random() * 5000);
const registry = `localhost:${port}`;
const image = `${registry}/team/hello:2`;
const user = 'ci';
const password = `pw-${Math.random().toString(36).slice(2)}`;
let proc: ChildProcess | undefined;

before(async () => {
  // htpasswd -B: the registry only accepts bcrypt entries
  const htpasswd = execFileSync('htpasswd', ['-Bbn', user, password], { encoding: 'utf8' });
  writeFileSync(join(dir, 'htpasswd'), htpasswd);
  writeFileSync(join(dir, 'config.yml'), [
    'version: 0.1',
    'log: { level: warn }',
    `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
    `http: { addr: 127.0.0.1:${port} }`,
    `auth: { htpasswd: { realm: berth-test, path: ${join(dir, 'htpasswd')} } }`,
    '',
  ].join('\n'));
  proc = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  proc.on('error', (e) => { stderr += `cannot start docker-registry (apt-get install docker-registry): ${e.message}`; });
  await until(async () => (await fetch(`http://${registry}/v2/`).catch(() => null))?.status === 401, 20_000, `the registry to answer (${stderr})`);

  await p.up();
  await ensureSample(p);
  // Put the sample image into the registry, then forget the local copy so berth must pull it.
  await docker.getImage(SAMPLE).tag({ repo: `${registry}/team/hello`, tag: '2' });
  const stream = await docker.getImage(image).push({ authconfig: { username: user, password, serveraddress: registry } });
  await new Promise<void>((res, rej) => docker.modem.followProgress(stream, (e: Error | null, out: { error?: string }[]) => {
    const failed = out?.find((o) => o.error);
    return e || failed ? rej(e ?? new Error(failed!.error)) : res();
  }));
  await docker.getImage(image).remove();
  await p.ok(['apps', 'create', 'priv', '--domain', 'priv.localhost']);
});
after(async () => {
  proc?.kill('SIGTERM');
  await docker.getImage(image).remove({ force: true }).catch(() => undefined);
  await p.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('without credentials the pull is refused with the registry\'s reason, and nothing changes', async () => {
  const r = await p.berth(['deploy', 'priv', '--image', image]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /pull .*(no basic auth credentials|unauthorized)/i);
  assert.equal((await p.get('priv.localhost')).status, 503);
});

test('a wrong password is refused by the registry and not stored', async () => {
  const r = await p.berth(['registry', 'login', registry, '-u', user, '--password-stdin'], { input: 'wrong\n' });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /login .*(unauthorized|incorrect|401)/i);
});

test('after berth registry login the image is pulled and served; the password is encrypted at rest', async () => {
  await p.ok(['registry', 'login', registry, '-u', user, '--password-stdin'], { input: `${password}\n` });
  const r = await p.ok(['deploy', 'priv', '--image', image]);
  assert.match(r.stderr, /pulling/);
  assert.match((await p.get('priv.localhost')).body, /hello from priv v1/);
  const releases = await p.json<{ image: string; digest: string | null }[]>(['releases', 'priv']);
  assert.equal(releases[0]!.image, image);
  assert.match(releases[0]!.digest ?? '', new RegExp(`^${registry}/team/hello@sha256:[0-9a-f]{64}$`));
  for (const f of ['berth.db', 'berth.db-wal']) {
    const content = (() => { try { return readFileSync(join(p.root, 'state', f)); } catch { return Buffer.alloc(0); } })();
    assert.ok(!content.includes(password), `${f} holds the registry password in plaintext`);
  }
  const audit = await p.json<{ action: string; detail: string }[]>(['audit']);
  const login = audit.find((a) => a.action === 'registry.login')!;
  assert.ok(login && !login.detail.includes(password));
});
