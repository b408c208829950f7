// Deploying from a private registry (the distribution registry from Debian's docker-registry
// package, with htpasswd auth): refused without credentials, pulled with them after
// `berth registry login`, which checks them with the registry and stores them encrypted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker, ensureSample, Platform, SAMPLE } from '../helpers/platform.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const p = new Platform();
let reg: TestRegistry;
let registry: string;
let image: string;
let user: string;
let password: string;

before(async () => {
  reg = await startRegistry();
  ({ address: registry, user, password } = reg);
  image = `${registry}/team/hello:2`;

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
  reg?.stop();
  await docker.getImage(image).remove({ force: true }).catch(() => undefined);
  await p.destroy();
});

test('without credentials the pull is refused with the registry\'s reason, and nothing changes', async () => {
  const r = await p.berth(['deploy', 'priv', '--image', image]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /pull .*(no basic auth credentials|unauthorized)/i);
  assert.equal((await p.get('priv.localhost')).status, 503);
});

test('a wrong password is refused by the registry and not stored', async () => {
  const r = await p.berth(['registry', 'login', registry, '-u', user, '--password-stdin'], { input: 'wrong\n' });
  assert.equal(r.code, 2, `bad input, not "unavailable": ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`${registry} refused the login: .*(unauthorized|incorrect|401)`, 'i'));
  assert.match(r.stderr, /check the username and the password .*nothing was stored/);
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
