// The shared Redis against a hostile neighbour: app alpha, with its own credentials, tries every
// command the server knows against beta's keys, channels and scripts; a rotation closes the
// connections of the user it retires; one app filling Redis gets errors, not the container killed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.js';
import { Cipher } from '../../src/lib/secrets.js';
import { openDb } from '../../src/state/db.js';
import { Store } from '../../src/state/store.js';
import { docker, ensureSample, Platform, SAMPLE, until } from '../helpers/platform.js';
import { type Reply, Resp, RespError } from '../helpers/resp.js';
import { KEYED, KEYLESS } from './redis-acl-table.js';

const p = new Platform();
const MAXMEMORY_MB = 24; // small, so that filling it is quick
type Creds = { user: string; password: string; prefix: string };
type Conn = { redis_url: string; redis: Creds };

let host = '';
const conn = (app: string) => new DaemonClient(`${p.root}/run/berth.sock`).call<Conn>('GET', `/apps/${app}/services`);
const as = (c: Creds) => Resp.as(host, 6379, c.user, c.password);

function adminPassword(): string {
  const store = new Store(openDb(join(p.root, 'state', 'berth.db')));
  try {
    return Cipher.fromKeyFile(join(p.root, 'state', 'master.key')).decryptJSON<{ password: string }>(store.getService('redis')!.secret).password;
  } finally {
    store.db.close();
  }
}
const admin = () => Resp.as(host, 6379, 'default', adminPassword());
const isNoPerm = (r: Reply) => r instanceof RespError && /^NOPERM/.test(r.message);
/** DEBUG and MODULE are refused to every user, the administrator too (enable-debug-command and
 *  enable-module-command are off by default), before any ACL check. */
const isOffForAll = (r: Reply) => r instanceof RespError && /command not allowed\. If the enable-(debug|module)-command option/.test(r.message);
const show = (r: Reply) => (r instanceof RespError ? `error ${r.message}` : JSON.stringify(r)?.slice(0, 200));

async function ipOf(): Promise<string> {
  const info = await docker.getContainer(`${p.instance}-redis`).inspect();
  return Object.values(info.NetworkSettings.Networks)[0]!.IPAddress;
}

let alpha: Creds;
let beta: Creds;
let betaScript = '';

before(async () => {
  await p.up(['--services', 'redis', '--redis-maxmemory', String(MAXMEMORY_MB)]);
  await ensureSample(p);
  await p.ok(['apps', 'create', 'alpha', '--domain', 'alpha.localhost']);
  await p.ok(['apps', 'create', 'beta', '--domain', 'beta.localhost']);
  host = await ipOf();
  alpha = (await conn('alpha')).redis;
  beta = (await conn('beta')).redis;
  // beta's data as a tenant would have it: keys of every kind, a script in the cache
  const b = await as(beta);
  for (const argv of [['SET', 'beta:secret', 'b-secret'], ['RPUSH', 'beta:list', 'x'], ['SADD', 'beta:set', 'x'], ['HSET', 'beta:hash', 'f', 'v'],
    ['XADD', 'beta:stream', '*', 'f', 'v']]) assert.ok(!((await b.call(...argv)) instanceof RespError), argv.join(' '));
  betaScript = String(await b.call('SCRIPT', 'LOAD', "return redis.call('GET', 'beta:secret')"));
  b.close();
  // a function library of beta's, loaded as administrator (no app may load one any more)
  const ad = await admin();
  assert.equal(await ad.call('FUNCTION', 'LOAD', "#!lua name=betalib\nredis.register_function('betafn', function() return 'beta' end)"), 'betalib');
  ad.close();
});
after(() => p.destroy());

test('what a hostile app saw before: beta\'s key names, channels, scripts and functions are out of alpha\'s reach', async () => {
  const sub = await as(beta);
  assert.deepEqual(await sub.call('SUBSCRIBE', 'beta:news'), ['subscribe', 'beta:news', 1]);
  const a = await as(alpha);
  try {
    for (const argv of [['SCAN', '0'], ['KEYS', '*'], ['RANDOMKEY'], ['DBSIZE'], ['PUBSUB', 'CHANNELS'], ['PUBSUB', 'NUMSUB', 'beta:news'],
      ['FUNCTION', 'LIST'], ['FUNCTION', 'DUMP'], ['FUNCTION', 'DELETE', 'betalib'], ['FUNCTION', 'FLUSH'], ['SCRIPT', 'FLUSH'],
      ['SCRIPT', 'EXISTS', betaScript], ['FCALL', 'betafn', '0'], ['INFO', 'keyspace'], ['CLIENT', 'LIST']]) {
      const r = await a.call(...argv);
      assert.ok(isNoPerm(r), `${argv.join(' ')}: ${show(r)}`);
    }
  } finally {
    a.close();
    sub.close();
  }
  const ad = await admin();
  assert.deepEqual(await ad.call('FUNCTION', 'LIST', 'LIBRARYNAME', 'betalib').then((r) => (r as Reply[]).length), 1, 'beta\'s function is gone');
  assert.deepEqual(await ad.call('SCRIPT', 'EXISTS', betaScript), [1], 'beta\'s script is gone');
  ad.close();
});

/** The arity-respecting argv to try a command with, with arguments that name beta's keys. */
function tryArgv(name: string, arity: number): string[] {
  const parts = name.split('|');
  const n = arity > 0 ? arity : -arity;
  return [...parts, ...Array.from({ length: Math.max(0, n - parts.length) }, () => 'beta:secret')];
}

/** Every placeholder under alpha's prefix, or (the one at index `foreign`) beta's key or channel. */
function fill(template: string, foreign: number): string[] {
  let i = 0;
  return template.split(' ').map((w) => {
    if (w !== '$k' && w !== '$c') return w;
    const mine = i++ !== foreign;
    if (w === '$k') return mine ? `alpha:k${i}` : 'beta:secret';
    return mine ? `alpha:ch${i}` : 'beta:news';
  });
}

/** Checks for the keyless commands an app may run (claims in KEYLESS). */
const KEYLESS_CHECKS: Record<string, (a: Resp) => Promise<void>> = {
  auth: async (a) => {
    for (const user of [beta.user, 'default']) assert.match(show(await a.call('AUTH', user, alpha.password)), /WRONGPASS/);
    assert.equal(await a.call('ACL', 'WHOAMI'), alpha.user);
  },
  hello: async (a) => {
    assert.match(show(await a.call('HELLO', '2', 'AUTH', beta.user, alpha.password)), /WRONGPASS/);
    assert.ok(Array.isArray(await a.call('HELLO', '2')));
  },
  quit: async (a) => {
    assert.equal(await a.call('QUIT'), 'OK');
    await until(async () => a.closed, 5000, 'QUIT to close the connection');
  },
  reset: async (a) => {
    assert.equal(await a.call('RESET'), 'RESET');
    assert.match(show(await a.call('GET', 'alpha:k')), /NOAUTH/);
  },
  ping: async (a) => assert.equal(await a.call('PING'), 'PONG'),
  echo: async (a) => assert.equal(await a.call('ECHO', 'x'), 'x'),
  time: async (a) => assert.equal((await a.call('TIME') as Reply[]).length, 2),
  select: async (a) => {
    assert.equal(await a.call('SELECT', '0'), 'OK');
    assert.ok(isNoPerm(await a.call('SELECT', '1')));
  },
  'client|id': async (a) => assert.equal(typeof await a.call('CLIENT', 'ID'), 'number'),
  'client|info': async (a) => {
    const info = String(await a.call('CLIENT', 'INFO'));
    assert.equal(info.trim().split('\n').length, 1);
    assert.match(info, new RegExp(` user=${alpha.user.replace('.', '\\.')} `));
  },
  'client|getname': async (a) => assert.equal(await a.call('CLIENT', 'GETNAME'), null),
  'client|setname': async (a) => {
    assert.equal(await a.call('CLIENT', 'SETNAME', 'mine'), 'OK');
    assert.equal(await a.call('CLIENT', 'GETNAME'), 'mine');
  },
  'client|reply': async (a) => assert.equal(await a.call('CLIENT', 'REPLY', 'ON'), 'OK'),
  multi: async (a) => {
    assert.equal(await a.call('MULTI'), 'OK');
    assert.ok(isNoPerm(await a.call('GET', 'beta:secret')));
    assert.match(show(await a.call('EXEC')), /EXECABORT/);
  },
  discard: async (a) => {
    assert.equal(await a.call('MULTI'), 'OK');
    assert.equal(await a.call('DISCARD'), 'OK');
  },
  unwatch: async (a) => assert.equal(await a.call('UNWATCH'), 'OK'),
  wait: async (a) => assert.equal(await a.call('WAIT', '0', '0'), 0),
  'acl|whoami': async (a) => assert.equal(await a.call('ACL', 'WHOAMI'), alpha.user),
  eval: async (a) => {
    assert.ok(isNoPerm(await a.call('EVAL', "return redis.call('GET', KEYS[1])", '1', 'beta:secret')));
    assert.match(show(await a.call('EVAL', "return redis.call('GET', 'beta:secret')", '0')), /can't access|NOPERM/);
    assert.match(show(await a.call('EVAL', "return redis.call('KEYS', '*')", '0')), /can't run this command|no permissions to run the 'keys' command/);
    assert.match(show(await a.call('EVAL', "return redis.call('FUNCTION', 'FLUSH')", '0')), /no permissions|not allowed from script/);
    assert.equal(await a.call('EVAL', "return redis.call('SET', KEYS[1], 'v')", '1', 'alpha:k'), 'OK');
  },
  eval_ro: async (a) => {
    assert.ok(isNoPerm(await a.call('EVAL_RO', "return redis.call('GET', KEYS[1])", '1', 'beta:secret')));
    assert.match(show(await a.call('EVAL_RO', "return redis.call('GET', 'beta:secret')", '0')), /can't access|NOPERM/);
  },
  evalsha: async (a) => assert.match(show(await a.call('EVALSHA', betaScript, '0')), /can't access|NOPERM/),
  evalsha_ro: async (a) => assert.match(show(await a.call('EVALSHA_RO', betaScript, '0')), /can't access|NOPERM/),
  'script|load': async (a) => {
    assert.equal(await a.call('SCRIPT', 'LOAD', "return redis.call('GET', 'beta:secret')"), betaScript, 'the same code, the same SHA1');
    const b = await as(beta);
    assert.equal(await b.call('EVALSHA', betaScript, '0'), 'b-secret', 'beta\'s script changed');
    b.close();
  },
  subscribe: async (a) => {
    assert.ok(isNoPerm(await a.call('SUBSCRIBE', 'beta:news')));
    assert.deepEqual(await a.call('SUBSCRIBE', 'alpha:news'), ['subscribe', 'alpha:news', 1]);
  },
  psubscribe: async (a) => {
    for (const pattern of ['*', 'beta:*', 'alpha*', '*:news']) assert.ok(isNoPerm(await a.call('PSUBSCRIBE', pattern)), pattern);
    assert.deepEqual(await a.call('PSUBSCRIBE', 'alpha:*'), ['psubscribe', 'alpha:*', 1]);
  },
  publish: async (a) => {
    assert.ok(isNoPerm(await a.call('PUBLISH', 'beta:news', 'x')));
    assert.equal(await a.call('PUBLISH', 'alpha:news', 'x'), 0);
  },
  unsubscribe: async (a) => unsubscribes(a, 'UNSUBSCRIBE', 'SUBSCRIBE', 'PUBLISH'),
  punsubscribe: async (a) => unsubscribes(a, 'PUNSUBSCRIBE', 'PSUBSCRIBE', 'PUBLISH'),
  sunsubscribe: async (a) => unsubscribes(a, 'SUNSUBSCRIBE', 'SSUBSCRIBE', 'SPUBLISH'),
};
for (const c of ['command', 'command|count', 'command|docs', 'command|info', 'command|list', 'command|help']) {
  KEYLESS_CHECKS[c] = async (a) => {
    const argv = c === 'command|docs' || c === 'command|info' ? [...c.split('|'), 'get'] : c.split('|');
    const ad = await admin();
    assert.deepEqual(await a.call(...argv), await ad.call(...argv), 'not the same table for every user');
    ad.close();
  };
}
for (const c of ['command|getkeys', 'command|getkeysandflags']) {
  KEYLESS_CHECKS[c] = async (a) => {
    const r = await a.call('COMMAND', c.split('|')[1]!.toUpperCase(), 'GET', 'beta:secret') as Reply[];
    assert.equal(JSON.stringify(r).includes('b-secret'), false);
    assert.equal(JSON.stringify(r).includes('beta:secret'), true, 'it names the argument it was given');
  };
}
KEYLESS_CHECKS.exec = KEYLESS_CHECKS.multi!;

/** Beta stays subscribed and keeps receiving whatever alpha unsubscribes from. */
async function unsubscribes(a: Resp, unsub: string, sub: string, pub: string): Promise<void> {
  const channel = sub === 'PSUBSCRIBE' ? 'beta:*' : 'beta:news';
  const b = await as(beta);
  await b.call(sub, channel);
  await a.call(unsub, channel);
  await a.call(unsub);
  const pb = await as(beta);
  assert.equal(await pb.call(pub, 'beta:news', 'still here'), 1, `beta lost its ${sub} after alpha's ${unsub}`);
  pb.close();
  b.close();
}

test('every command the server knows is refused to an app, or shown to stay within its prefix', async () => {
  const ad = await admin();
  const docs = await ad.call('COMMAND') as Reply[][];
  ad.close();
  const names: { name: string; arity: number }[] = [];
  for (const d of docs) {
    const subs = d[9] as Reply[][] | undefined;
    if (subs?.length) for (const s of subs) names.push({ name: String(s[0]), arity: Number(s[1]) });
    if (!subs?.length || Number(d[1]) === -1) names.push({ name: String(d[0]), arity: Number(d[1]) }); // COMMAND alone is a command too
  }
  assert.ok(names.length > 300, `only ${names.length} commands`);
  const problems: string[] = [];
  let denied = 0;
  let allowed = 0;
  for (const { name, arity } of names) {
    const a = await as(alpha);
    try {
      if (KEYED[name] !== undefined) {
        const template = `${name.replace('|', ' ')} ${KEYED[name]}`;
        const own = await a.call(...fill(template, -1));
        if (isNoPerm(own)) problems.push(`${name}: refused on alpha's own keys: ${show(own)}`);
        const slots = template.split(' ').filter((w) => w === '$k' || w === '$c').length;
        for (let i = 0; i < slots; i++) {
          const argv = fill(template, i);
          const other = await as(alpha); // a fresh connection: the last run may have left it subscribed
          const r = await other.call(...argv);
          other.close();
          if (!isNoPerm(r)) problems.push(`${argv.join(' ')}: not refused: ${show(r)}`);
        }
        allowed++;
      } else if (KEYLESS_CHECKS[name]) {
        await KEYLESS_CHECKS[name]!(a).catch((e: Error) => problems.push(`${name}: ${e.message}`));
        allowed++;
      } else {
        const r = await a.call(...tryArgv(name, arity));
        if (isNoPerm(r) || isOffForAll(r)) denied++;
        else problems.push(`${name}: neither refused nor in the table of allowed commands: ${show(r)}`);
      }
    } finally {
      a.close();
    }
  }
  for (const name of [...Object.keys(KEYED), ...Object.keys(KEYLESS)]) {
    if (!names.some((n) => n.name === name)) problems.push(`${name}: in the table but unknown to this server`);
    if (!KEYED[name] && !KEYLESS_CHECKS[name]) problems.push(`${name}: in KEYLESS without a check`);
  }
  const b = await as(beta);
  assert.equal(await b.call('GET', 'beta:secret'), 'b-secret');
  b.close();
  assert.deepEqual(problems, [], `${problems.length} problems (${denied} refused, ${allowed} allowed)`);
  console.log(`redis commands: ${names.length}, refused ${denied}, allowed ${allowed}`);
});

test('SORT cannot fetch another app\'s keys through BY or GET', async () => {
  const a = await as(alpha);
  await a.call('RPUSH', 'alpha:ids', '1', '2');
  for (const opt of [['BY', 'beta:*'], ['GET', 'beta:*'], ['BY', 'alpha:*', 'GET', '*']]) {
    assert.match(show(await a.call('SORT', 'alpha:ids', ...opt)), /denied|NOPERM/, opt.join(' '));
  }
  a.close();
});

test('rotation: a connection opened before it is closed, the retired user refused, the new release works', async () => {
  await p.ok(['deploy', 'alpha', '--image', SAMPLE]);
  const before = (await conn('alpha')).redis;
  const old = await as(before);
  assert.equal(await old.call('SET', 'alpha:greeting', 'hi'), 'OK');
  const r = await p.json<{ rotated: string[] }>(['apps', 'rotate', 'alpha', '--redis']);
  assert.deepEqual(r.rotated, ['redis']);
  const now = await conn('alpha');
  assert.notEqual(now.redis.user, before.user, 'the new password belongs to the other slot\'s user');
  await until(async () => old.closed, 5000, 'the old connection to be closed').catch(async () => {
    assert.fail(`the connection authenticated before the rotation still answers: ${show(await old.call('GET', 'alpha:greeting'))}`);
  });
  await assert.rejects(old.call('GET', 'alpha:greeting'), /connection closed/);
  await assert.rejects(as(before), /WRONGPASS/);
  // the live release's own REDIS_URL works
  const live = (await p.containers()).find((c) => c.app === 'alpha' && c.name === `${p.instance}-alpha-web`)!;
  const env = (await docker.getContainer(live.name).inspect()).Config.Env;
  const url = new URL(env.find((e) => e.startsWith('REDIS_URL='))!.slice('REDIS_URL='.length));
  assert.equal(url.username, now.redis.user);
  const fresh = await Resp.as(host, 6379, decodeURIComponent(url.username), decodeURIComponent(url.password));
  assert.equal(await fresh.call('GET', 'alpha:greeting'), 'hi');
  fresh.close();
  // and a second rotation goes back to the first slot, with a new password
  const again = await as(now.redis);
  await p.ok(['apps', 'rotate', 'alpha', '--redis']);
  assert.equal((await conn('alpha')).redis.user, before.user);
  await until(async () => again.closed, 5000, 'the second rotation to close the connection it retired');
});

test('--redis dedicated: a small Redis of the app\'s own, with its own limit; rotation and purge work on it', async () => {
  const created = await p.json<{ resources: { redis: string } }>(['apps', 'create', 'solo', '--domain', 'solo.localhost', '--redis', 'dedicated']);
  assert.match(created.resources.redis, new RegExp(`^its own: ${p.instance}-redis-solo, maxmemory 48 MB$`));
  assert.match((await p.ok(['apps', 'show', 'solo'])).stdout, /redis +its own: /);
  const c = await conn('solo');
  assert.match(c.redis_url, new RegExp(`^redis://app-solo\\.a:[A-Za-z0-9_-]{32}@${p.instance}-redis-solo:6379$`));
  const info = await docker.getContainer(`${p.instance}-redis-solo`).inspect();
  assert.equal(info.HostConfig.Memory, 77 * 1024 * 1024, 'its container\'s hard limit');
  const own = Object.values(info.NetworkSettings.Networks)[0]!.IPAddress;
  await assert.rejects(Resp.as(host, 6379, c.redis.user, c.redis.password), /WRONGPASS/, 'solo has a user on the shared Redis');
  await assert.rejects(Resp.as(own, 6379, alpha.user, alpha.password), /WRONGPASS/, 'alpha has a user on solo\'s Redis');
  const before = await Resp.as(own, 6379, c.redis.user, c.redis.password);
  assert.ok(isNoPerm(await before.call('KEYS', '*')), 'the same allow-list as on the shared Redis');
  const mb = 'x'.repeat(1024 * 1024);
  let refused: Reply = null;
  for (let i = 0; i < 100 && !refused; i++) {
    const r = await before.call('SET', `solo:fill:${i}`, mb);
    if (r instanceof RespError) refused = r;
  }
  assert.match(show(refused), /OOM command not allowed/);
  const rows = await p.json<Record<string, unknown>[]>(['services']);
  const row = rows.find((x) => x.app === 'solo')!;
  assert.equal(row.maxmemory_bytes, 48 * 1024 * 1024);
  assert.ok(Number(row.memory_used_pct) >= 90, JSON.stringify(row));
  const shared = rows.find((x) => x.service === 'redis' && !x.app)!;
  assert.ok(Number(shared.used_bytes) < 10 * 1024 * 1024, `the shared Redis holds ${String(shared.used_bytes)} bytes`);
  await p.ok(['apps', 'rotate', 'solo', '--redis']);
  await until(async () => before.closed, 5000, 'the rotation to close the old connection on solo\'s Redis');
  const now = (await conn('solo')).redis;
  const after = await Resp.as(own, 6379, now.user, now.password);
  assert.equal(await after.call('STRLEN', 'solo:fill:0'), 1024 * 1024);
  after.close();
  const cli = await p.ok(['redis', 'cli', 'solo'], { input: 'STRLEN solo:fill:1\nKEYS *\n' });
  assert.match(cli.stdout, /^1048576\n.*NOPERM/s, 'berth redis cli does not reach the app\'s own Redis as the app');
  await p.ok(['apps', 'delete', 'solo', '--purge', '--yes']);
  await assert.rejects(docker.getContainer(`${p.instance}-redis-solo`).inspect(), /no such container/i);
  assert.equal(existsSync(join(p.root, 'services', 'redis-apps', 'solo')), false, 'its data was kept after --purge');
});

test('one app filling Redis gets errors; the container is not killed and the other app keeps its data', async () => {
  const status = async () => (await p.json<Record<string, unknown>[]>(['services'])).find((s) => s.service === 'redis')!;
  const s0 = await status();
  assert.equal(s0.maxmemory_bytes, MAXMEMORY_MB * 1024 * 1024);
  assert.equal(s0.maxmemory_policy, 'volatile-lru');
  const started = (await docker.getContainer(`${p.instance}-redis`).inspect()).State.StartedAt;
  const a = await as((await conn('alpha')).redis);
  const mb = 'x'.repeat(1024 * 1024);
  let refused: Reply = null;
  for (let i = 0; i < MAXMEMORY_MB * 2 && !refused; i++) {
    const r = await a.call('SET', `alpha:fill:${i}`, mb);
    if (r instanceof RespError) refused = r;
  }
  a.close();
  assert.match(show(refused), /OOM command not allowed/);
  const full = await status();
  assert.ok(Number(full.memory_used_pct) >= 90, `berth services says ${String(full.memory_used_pct)}% used`);
  const text = (await p.ok(['services'])).stdout;
  assert.match(text, /redis .*\d+(\.\d)?\/24 MB/, text);
  const info = await docker.getContainer(`${p.instance}-redis`).inspect();
  assert.equal(info.State.OOMKilled, false);
  assert.equal(info.State.StartedAt, started, 'the Redis container was restarted');
  const b = await as((await conn('beta')).redis);
  assert.equal(await b.call('GET', 'beta:secret'), 'b-secret');
  b.close();
});
