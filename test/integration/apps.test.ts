// Apps and config through the CLI and the API: validation at the edge, conflicts, secrets
// encrypted at rest, deletion.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.js';
import { ensureSample, Platform, SAMPLE } from '../helpers/platform.js';

const p = new Platform();
const api = () => new DaemonClient(join(p.root, 'run', 'berth.sock'));

before(async () => {
  await p.up();
  await ensureSample(p);
});
after(() => p.destroy());

const HOSTILE = ['a b', 'a{b}', 'a"b', "a'b", 'a\nb', 'x;rm -rf /', '$(id)', '`id`', 'ünïcode', 'a'.repeat(300), '{', '-rf', '../x', 'a\u0000b'];

test('hostile names, domains, keys and images get a clear error and change nothing', async () => {
  await p.ok(['apps', 'create', 'good', '--domain', 'good.localhost']);
  const routesBefore = (await p.json<{ proxy: { routes: number } }>(['status'])).proxy.routes;
  // what people did (the platform's own work, such as the WAL archive's first base backup, goes on meanwhile)
  const byPeople = async () => (await p.json<{ actor: string }[]>(['audit'])).filter((e) => e.actor !== 'berth').length;
  const auditBefore = await byPeople();
  const containersBefore = (await p.containers()).length;
  for (const bad of HOSTILE) {
    for (const args of [
      ['apps', 'create', bad, '--domain', 'x.localhost'],
      ['apps', 'create', 'ok-name', '--domain', bad],
      ['apps', 'create', 'ok-name', '--domain', `${bad}.localhost`],
      ['config', 'set', 'good', `${bad}=1`],
      ['deploy', 'good', '--image', bad],
      ['deploy', 'good', '--image', SAMPLE, '--health-path', bad],
    ]) {
      if (args.some((a) => a.includes('\u0000'))) continue; // argv cannot carry NUL; the API test covers it
      const r = await p.berth(args);
      assert.equal(r.code, 2, `berth ${JSON.stringify(args)} exited ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, /^error: .+/m);
    }
  }
  // The daemon validates too: the API refuses what a script might send past the CLI.
  for (const bad of HOSTILE) {
    await assert.rejects(api().call('POST', '/apps', { name: bad, domains: ['y.localhost'] }), (e: Error & { code?: string }) => e.code === 'invalid');
    await assert.rejects(api().call('POST', '/apps', { name: 'fine', domains: [bad] }), (e: Error & { code?: string }) => e.code === 'invalid');
    await assert.rejects(api().call('PATCH', '/apps/good/config', { set: { [bad]: 'x' } }), (e: Error & { code?: string }) => e.code === 'invalid');
    await assert.rejects(api().call('POST', '/apps/good/deploys', { image: bad }), (e: Error & { code?: string }) => e.code === 'invalid');
  }
  await assert.rejects(api().call('PATCH', '/apps/good/config', { set: { OK: 'nul\u0000byte' } }), /NUL/);
  await assert.rejects(api().call('POST', '/apps', { name: 'x', domains: ['x.localhost'], extra: 1 }), /Unrecognized key/);
  assert.equal((await p.json<{ proxy: { routes: number } }>(['status'])).proxy.routes, routesBefore, 'a route was added');
  assert.equal(await byPeople(), auditBefore, 'something was changed');
  assert.equal((await p.containers()).length, containersBefore, 'a container was created');
  assert.equal((await p.json<unknown[]>(['apps', 'list'])).length, 1);
});

test('apps create is idempotent; a domain in use is refused with its owner', async () => {
  const again = await p.json<{ created: boolean }>(['apps', 'create', 'good', '--domain', 'good.localhost']);
  assert.equal(again.created, false);
  const other = await p.berth(['apps', 'create', 'other', '--domain', 'good.localhost']);
  assert.equal(other.code, 4);
  assert.match(other.stderr, /domain good.localhost is already used by app good/);
  const renamed = await p.berth(['apps', 'create', 'good', '--domain', 'elsewhere.localhost']);
  assert.equal(renamed.code, 4);
  const shown = await p.json<{ name: string; domains: string[]; release: null }>(['apps', 'show', 'good']);
  assert.deepEqual(shown.domains, ['good.localhost']);
  assert.equal(shown.release, null);
  assert.equal((await p.berth(['apps', 'show', 'nope'])).code, 3);
});

test('berth apps domains add|remove|list changes an app\'s domains; berth domains is the same', async () => {
  await p.ok(['apps', 'domains', 'add', 'good', 'www.good.localhost', 'alt.good.localhost']);
  assert.deepEqual((await p.json<{ domains: string[] }>(['apps', 'domains', 'list', 'good'])).domains,
    ['good.localhost', 'www.good.localhost', 'alt.good.localhost']);
  const again = await p.ok(['apps', 'domains', 'add', 'good', 'www.good.localhost']);
  assert.match(again.stdout, /\(unchanged\)/);
  await p.ok(['apps', 'domains', 'remove', 'good', 'alt.good.localhost']);
  await p.ok(['domains', 'remove', 'good', 'www.good.localhost']); // the older form, kept as an alias
  assert.equal((await p.ok(['apps', 'domains', 'good'])).stdout.trim(), 'good.localhost');
  assert.equal((await p.berth(['apps', 'domains', 'add', 'nope', 'x.localhost'])).code, 3);
});

test('config is encrypted at rest, hidden unless revealed, injected into the release', async () => {
  const secret = 'pa55-' + Math.random().toString(36).slice(2);
  await p.ok(['apps', 'create', 'cfg', '--domain', 'cfg.localhost', '--domain', 'www.cfg.localhost']);
  await p.ok(['config', 'set', 'cfg', `DB_PASSWORD=${secret}`, 'MODE=prod']);
  await p.ok(['deploy', 'cfg', '--image', SAMPLE]);
  const hidden = await p.ok(['config', 'list', 'cfg']);
  assert.ok(!hidden.stdout.includes(secret));
  assert.match(hidden.stdout, /DB_PASSWORD=•+/);
  assert.match((await p.ok(['config', 'list', 'cfg', '--reveal'])).stdout, new RegExp(`DB_PASSWORD=${secret}`));
  assert.deepEqual(JSON.parse((await p.get('www.cfg.localhost', '/env?keys=DB_PASSWORD')).body), { DB_PASSWORD: true }, 'the second domain serves the app');
  assert.deepEqual(await p.appEnv('cfg', ['DB_PASSWORD', 'MODE', 'APP_DOMAIN']), { DB_PASSWORD: secret, MODE: 'prod', APP_DOMAIN: 'cfg.localhost' });
  // at rest: neither the state file nor its WAL holds the plaintext
  for (const f of ['berth.db', 'berth.db-wal']) {
    const path = join(p.root, 'state', f);
    const content = (() => { try { return readFileSync(path); } catch { return Buffer.alloc(0); } })();
    assert.ok(!content.includes(secret), `${f} holds the secret in plaintext`);
  }
  for (const [f, mode] of [['state/master.key', 0o600], ['state/berth.db', 0o600], ['run/berth.sock', 0o600], ['run', 0o700], ['state', 0o700]] as const) {
    assert.equal(statSync(join(p.root, f)).mode & 0o777, mode, `${f} mode`);
  }
  const log = readFileSync(join(p.root, 'logs', 'daemon.log'), 'utf8');
  assert.ok(!log.includes(secret), 'the daemon log holds the secret');
  await p.ok(['config', 'unset', 'cfg', 'MODE']);
  assert.deepEqual(await p.appEnv('cfg', ['MODE']), { MODE: null });
  assert.equal((await p.berth(['config', 'set', 'cfg', 'PORT=1'])).code, 2);
});

test('apps delete asks, or takes --yes; it removes the route and containers', async () => {
  const refused = await p.berth(['apps', 'delete', 'cfg']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--yes/);
  assert.equal((await p.get('cfg.localhost')).status, 200);
  await p.ok(['apps', 'delete', 'cfg', '--yes']);
  // The domain has no route and no certificate any more: the handshake itself is refused.
  await assert.rejects(p.get('cfg.localhost'), /alert internal error|404/);
  assert.equal((await p.containers()).filter((c) => c.app === 'cfg').length, 0);
  assert.equal((await p.berth(['apps', 'delete', 'cfg', '--yes'])).code, 3);
  const audit = await p.json<{ action: string; app: string }[]>(['audit', 'cfg']);
  assert.equal(audit[0]!.action, 'apps.delete');
  assert.ok(audit.some((a) => a.action === 'config.change'), JSON.stringify(audit));
});
