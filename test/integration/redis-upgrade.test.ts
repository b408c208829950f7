// A platform from before two Redis users per app: its app has one user `app-NAME` with the old
// deny-list rules, which its running release uses. After berth is upgraded (the daemon starts with
// this code), the running app keeps working, gets the allow-list, and its first rotation moves it
// to a slot user and retires the old one, closing its connections.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.js';
import { Cipher } from '../../src/lib/secrets.js';
import { openDb } from '../../src/state/db.js';
import { Store } from '../../src/state/store.js';
import { docker, ensureSample, Platform, SAMPLE, until } from '../helpers/platform.js';
import { Resp, RespError } from '../helpers/resp.js';

const p = new Platform();
const OLD_PASSWORD = 'legacy-password-0123456789abcdef';
let host = '';
const conn = (app: string) => new DaemonClient(`${p.root}/run/berth.sock`).call<{ redis: { user: string; password: string } }>('GET', `/apps/${app}/services`);

function withState<T>(fn: (store: Store, cipher: Cipher) => T): T {
  const store = new Store(openDb(join(p.root, 'state', 'berth.db')));
  try {
    return fn(store, Cipher.fromKeyFile(join(p.root, 'state', 'master.key')));
  } finally {
    store.db.close();
  }
}
const admin = () => Resp.as(host, 6379, 'default', withState((s, c) => c.decryptJSON<{ password: string }>(s.getService('redis')!.secret).password));

before(async () => {
  await p.up(['--services', 'redis']);
  await ensureSample(p);
  await p.ok(['apps', 'create', 'old', '--domain', 'old.localhost']);
  await p.ok(['deploy', 'old', '--image', SAMPLE]);
  const info = await docker.getContainer(`${p.instance}-redis`).inspect();
  host = Object.values(info.NetworkSettings.Networks)[0]!.IPAddress;
  // turn it into what berth before two users left: its state and its one ACL user
  const alive = () => new DaemonClient(`${p.root}/run/berth.sock`, 2000).alive();
  p.killDaemon('SIGKILL');
  await until(async () => !(await alive()), 10_000, 'the daemon to stop');
  withState((s, c) => s.setAppService('old', 'redis', c.encryptJSON({ user: 'app-old', prefix: 'old:', passwords: [OLD_PASSWORD], active: OLD_PASSWORD })));
  const ad = await admin();
  for (const argv of [['ACL', 'DELUSER', 'app-old.a', 'app-old.b'],
    ['ACL', 'SETUSER', 'app-old', 'reset', 'on', `>${OLD_PASSWORD}`, '~old:*', '&old:*', '+@all', '-@dangerous', '-@admin'], ['ACL', 'SAVE']]) {
    assert.ok(!((await ad.call(...argv)) instanceof RespError), argv.join(' '));
  }
  ad.close();
});
after(() => p.destroy());

test('the running app keeps its connection and credentials through the upgrade, under the allow-list; its first rotation retires the old user', async () => {
  const running = await Resp.as(host, 6379, 'app-old', OLD_PASSWORD);
  assert.equal(await running.call('SET', 'old:k', 'v'), 'OK');
  assert.ok(Array.isArray(await running.call('SCAN', '0')), 'the old rules allowed SCAN');
  await p.up(['--services', 'redis']); // the daemon of this berth starts
  await until(async () => (await running.call('SCAN', '0')) instanceof RespError, 10_000, 'the allow-list to reach the old user');
  assert.match(String(await running.call('SCAN', '0')), /NOPERM/);
  assert.equal(await running.call('GET', 'old:k'), 'v', 'the running app\'s connection was broken');
  (await Resp.as(host, 6379, 'app-old', OLD_PASSWORD)).close(); // and it can reconnect (after a Redis restart, say)
  assert.equal((await conn('old')).redis.user, 'app-old', 'releases keep the user the running one has until a rotation');
  const stored = withState((s, c) => c.decryptJSON<Record<string, unknown>>(s.appService('old', 'redis')!));
  assert.deepEqual(Object.keys(stored).sort(), ['active', 'legacy', 'logins', 'prefix', 'user'], 'the grant was not stored in the new shape');

  await p.ok(['apps', 'rotate', 'old', '--redis']);
  await until(async () => running.closed, 5000, 'the old user\'s connection to be closed');
  await assert.rejects(Resp.as(host, 6379, 'app-old', OLD_PASSWORD), /WRONGPASS/);
  await assert.rejects(Resp.as(host, 6379, 'app-old.a', OLD_PASSWORD), /WRONGPASS/);
  const now = (await conn('old')).redis;
  assert.equal(now.user, 'app-old.b');
  const env = (await docker.getContainer(`${p.instance}-old-web`).inspect()).Config.Env;
  assert.ok(env.includes(`REDIS_URL=redis://app-old.b:${now.password}@${p.instance}-redis:6379`), env.filter((e) => e.startsWith('REDIS')).join(' '));
  const fresh = await Resp.as(host, 6379, now.user, now.password);
  assert.equal(await fresh.call('GET', 'old:k'), 'v');
  fresh.close();
  const ad = await admin();
  assert.deepEqual((await ad.call('ACL', 'USERS') as string[]).filter((u) => u.startsWith('app-old')), ['app-old.a', 'app-old.b']);
  ad.close();
});
