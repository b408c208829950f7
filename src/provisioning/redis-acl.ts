// What an app's Redis users may run on the shared Redis, as data (pure). An allow-list, not a
// deny-list: a command a newer Redis adds is refused until it is added here. Each command is one
// that Redis checks against the user's key and channel patterns (~prefix* &prefix*), or one that
// touches only the caller's own connection. test/integration/redis.test.ts tries every command
// the server knows as one app against another's keys, channels and scripts, with a reason for
// each one allowed (test/integration/redis-acl-table.ts).
//
// Refused on purpose, among others: KEYS, SCAN, RANDOMKEY, DBSIZE (another app's key names and
// counts), PUBSUB (its channels), FUNCTION and FCALL (one library namespace for all apps),
// SCRIPT FLUSH/KILL/EXISTS, INFO, CLIENT LIST/KILL, CLIENT TRACKING (invalidations of any key,
// redirected to any connection), MONITOR, SLOWLOG, MEMORY STATS/DOCTOR, DUMP/RESTORE/MIGRATE,
// COPY/MOVE (other databases, out of a purge's reach), SELECT of any database but 0.
import { type RedisGrant, redisLogin } from './model.js';

/** Commands that check every key (~) and channel (&) they name against the user's patterns. */
const KEYED = [
  'append', 'bitcount', 'bitfield', 'bitfield_ro', 'bitop', 'bitpos', 'blmove', 'blmpop', 'blpop', 'brpop', 'brpoplpush', 'bzmpop', 'bzpopmax',
  'bzpopmin', 'decr', 'decrby', 'del', 'exists', 'expire', 'expireat', 'expiretime', 'geoadd', 'geodist', 'geohash', 'geopos', 'georadius',
  'georadius_ro', 'georadiusbymember', 'georadiusbymember_ro', 'geosearch', 'geosearchstore', 'get', 'getbit', 'getdel', 'getex', 'getrange',
  'getset', 'hdel', 'hexists', 'hget', 'hgetall', 'hincrby', 'hincrbyfloat', 'hkeys', 'hlen', 'hmget', 'hmset', 'hrandfield', 'hscan', 'hset',
  'hsetnx', 'hstrlen', 'hvals', 'incr', 'incrby', 'incrbyfloat', 'lcs', 'lindex', 'linsert', 'llen', 'lmove', 'lmpop', 'lpop', 'lpos', 'lpush',
  'lpushx', 'lrange', 'lrem', 'lset', 'ltrim', 'memory|usage', 'mget', 'mset', 'msetnx', 'object|encoding', 'object|freq', 'object|idletime',
  'object|refcount', 'persist', 'pexpire', 'pexpireat', 'pexpiretime', 'pfadd', 'pfcount', 'pfmerge', 'psetex', 'pttl', 'rename', 'renamenx',
  'rpop', 'rpoplpush', 'rpush', 'rpushx', 'sadd', 'scard', 'sdiff', 'sdiffstore', 'set', 'setbit', 'setex', 'setnx', 'setrange', 'sinter',
  'sintercard', 'sinterstore', 'sismember', 'smembers', 'smismember', 'smove', 'sort', 'sort_ro', 'spop', 'spublish', 'srandmember', 'srem',
  'sscan', 'ssubscribe', 'strlen', 'substr', 'sunion', 'sunionstore', 'touch', 'ttl', 'type', 'unlink', 'watch', 'xack', 'xadd', 'xautoclaim',
  'xclaim', 'xdel', 'xgroup|create', 'xgroup|createconsumer', 'xgroup|delconsumer', 'xgroup|destroy', 'xgroup|setid', 'xinfo|consumers',
  'xinfo|groups', 'xinfo|stream', 'xlen', 'xpending', 'xrange', 'xread', 'xreadgroup', 'xrevrange', 'xsetid', 'xtrim', 'zadd', 'zcard', 'zcount',
  'zdiff', 'zdiffstore', 'zincrby', 'zinter', 'zintercard', 'zinterstore', 'zlexcount', 'zmpop', 'zmscore', 'zpopmax', 'zpopmin', 'zrandmember',
  'zrange', 'zrangebylex', 'zrangebyscore', 'zrangestore', 'zrank', 'zrem', 'zremrangebylex', 'zremrangebyrank', 'zremrangebyscore', 'zrevrange',
  'zrevrangebylex', 'zrevrangebyscore', 'zrevrank', 'zscan', 'zscore', 'zunion', 'zunionstore',
] as const;

/** Commands without keys that show or change only the caller's connection, the server's command
 *  table, or (scripts, pub/sub) what the key and channel patterns already allow. */
const KEYLESS = [
  'auth', 'hello', 'quit', 'reset', 'ping', 'echo', 'time', 'select|0', 'client|id', 'client|info', 'client|getname', 'client|setname',
  'client|reply', 'command', 'multi', 'exec', 'discard', 'unwatch', 'wait', 'acl|whoami',
  // a script runs with the caller's rights: every key and command it uses is checked
  'eval', 'eval_ro', 'evalsha', 'evalsha_ro', 'script|load',
  'subscribe', 'psubscribe', 'publish', 'unsubscribe', 'punsubscribe', 'sunsubscribe',
] as const;

export const APP_COMMANDS: readonly string[] = [...KEYED, ...KEYLESS];

/** `select|0` allows SELECT with the first argument 0 only (Redis's first-arg rule). */
const FIRST_ARG = new Set(['select|0']);

/** The allowed commands this server knows (an older or newer Redis may lack some, and ACL
 *  SETUSER refuses a name it does not know). `known`: the server's COMMAND LIST. */
export function knownCommands(known: ReadonlySet<string>): string[] {
  return APP_COMMANDS.filter((c) => known.has(FIRST_ARG.has(c) ? c.split('|')[0]! : c));
}

/** ACL SETUSER rules for a user that logs in with `passwords`, limited to the app's prefix. */
export function aclRules(prefix: string, passwords: string[], known: ReadonlySet<string>): string[] {
  return ['reset', 'on', ...passwords.map((p) => `>${p}`), `~${prefix}*`, `&${prefix}*`, ...knownCommands(known).map((c) => `+${c}`)];
}

/** The admin commands that make the server match the grant, in order: the slots with a password
 *  first (so the release about to use one can log in), then the others disabled and their
 *  connections closed, the legacy user kept or deleted (which closes its connections), saved. */
export function redisPlan(g: RedisGrant, known: ReadonlySet<string>): string[][] {
  const user = (slot: 'a' | 'b') => redisLogin(g, slot);
  const open = (['a', 'b'] as const).filter((s) => g.logins[s] !== null);
  const closed = (['a', 'b'] as const).filter((s) => g.logins[s] === null);
  return [
    ...open.map((s) => ['ACL', 'SETUSER', user(s), ...aclRules(g.prefix, [g.logins[s]!], known)]),
    ...closed.flatMap((s) => [['ACL', 'SETUSER', user(s), 'reset', 'off'], ['CLIENT', 'KILL', 'USER', user(s)]]),
    g.legacy ? ['ACL', 'SETUSER', g.user, ...aclRules(g.prefix, g.legacy.passwords, known)] : ['ACL', 'DELUSER', g.user],
    ['ACL', 'SAVE'],
  ];
}
