// The Redis commands an app user may run on the shared Redis, each with the arguments that show
// it stays inside the app's prefix. Used by redis.test.ts, which reads every command from the
// server's COMMAND list: a command must be refused (NOPERM) or be here.
//
// A keyed command's args use $k for a key and $c for a channel. The test runs it once as the app
// with every placeholder under the app's own prefix (it must not be refused), then once per
// placeholder with that one under the other app's prefix (it must be refused with NOPERM).
// Commands without keys get a check of their own (KEYLESS): what they show or change.

export const KEYED: Record<string, string> = {
  append: '$k v', bitcount: '$k', bitfield: '$k GET u8 0', bitfield_ro: '$k GET u8 0', bitop: 'AND $k $k', bitpos: '$k 1',
  blmove: '$k $k LEFT RIGHT 0.01', blmpop: '0.01 2 $k $k LEFT', blpop: '$k 0.01', brpop: '$k 0.01', brpoplpush: '$k $k 0.01',
  bzmpop: '0.01 2 $k $k MIN', bzpopmax: '$k 0.01', bzpopmin: '$k 0.01',
  decr: '$k', decrby: '$k 1', del: '$k $k', exists: '$k $k', expire: '$k 100', expireat: '$k 9999999999', expiretime: '$k',
  geoadd: '$k 13.3 52.5 m', geodist: '$k m n', geohash: '$k m', geopos: '$k m',
  georadius: '$k 13 52 100 km STORE $k', georadius_ro: '$k 13 52 100 km', georadiusbymember: '$k m 100 km STORE $k',
  georadiusbymember_ro: '$k m 100 km', geosearch: '$k FROMLONLAT 13 52 BYRADIUS 100 km', geosearchstore: '$k $k FROMLONLAT 13 52 BYRADIUS 100 km',
  get: '$k', getbit: '$k 0', getdel: '$k', getex: '$k', getrange: '$k 0 1', getset: '$k v',
  hdel: '$k f', hexists: '$k f', hget: '$k f', hgetall: '$k', hincrby: '$k f 1', hincrbyfloat: '$k f 1', hkeys: '$k', hlen: '$k',
  hmget: '$k f', hmset: '$k f v', hrandfield: '$k', hscan: '$k 0', hset: '$k f v', hsetnx: '$k f v', hstrlen: '$k f', hvals: '$k',
  incr: '$k', incrby: '$k 1', incrbyfloat: '$k 1', lcs: '$k $k',
  lindex: '$k 0', linsert: '$k BEFORE a b', llen: '$k', lmove: '$k $k LEFT RIGHT', lmpop: '2 $k $k LEFT', lpop: '$k', lpos: '$k a',
  lpush: '$k a', lpushx: '$k a', lrange: '$k 0 -1', lrem: '$k 0 a', lset: '$k 0 a', ltrim: '$k 0 -1',
  'memory|usage': '$k', mget: '$k $k', mset: '$k v $k v', msetnx: '$k v $k v',
  'object|encoding': '$k', 'object|freq': '$k', 'object|idletime': '$k', 'object|refcount': '$k',
  persist: '$k', pexpire: '$k 100000', pexpireat: '$k 9999999999999', pexpiretime: '$k', pfadd: '$k a', pfcount: '$k $k', pfmerge: '$k $k',
  psetex: '$k 100000 v', pttl: '$k', rename: '$k $k', renamenx: '$k $k', rpop: '$k', rpoplpush: '$k $k', rpush: '$k a', rpushx: '$k a',
  sadd: '$k a', scard: '$k', sdiff: '$k $k', sdiffstore: '$k $k $k', set: '$k v', setbit: '$k 0 1', setex: '$k 100 v', setnx: '$k v',
  setrange: '$k 0 v', sinter: '$k $k', sintercard: '2 $k $k', sinterstore: '$k $k $k', sismember: '$k a', smembers: '$k',
  smismember: '$k a', smove: '$k $k a', sort: '$k STORE $k', sort_ro: '$k', spop: '$k', spublish: '$c m', srandmember: '$k',
  srem: '$k a', sscan: '$k 0', ssubscribe: '$c', strlen: '$k', substr: '$k 0 1', sunion: '$k $k', sunionstore: '$k $k $k',
  touch: '$k $k', ttl: '$k', type: '$k', unlink: '$k $k', watch: '$k $k',
  xack: '$k g 0-1', xadd: '$k * f v', xautoclaim: '$k g c 0 0-0', xclaim: '$k g c 0 0-1', xdel: '$k 0-1',
  'xgroup|create': '$k g $ MKSTREAM', 'xgroup|createconsumer': '$k g c', 'xgroup|delconsumer': '$k g c', 'xgroup|destroy': '$k g',
  'xgroup|setid': '$k g $', 'xinfo|consumers': '$k g', 'xinfo|groups': '$k', 'xinfo|stream': '$k', xlen: '$k', xpending: '$k g',
  xrange: '$k - +', xread: 'COUNT 1 STREAMS $k $k 0 0', xreadgroup: 'GROUP g c COUNT 1 STREAMS $k $k > >', xrevrange: '$k + -',
  xsetid: '$k 0-1', xtrim: '$k MAXLEN 10',
  zadd: '$k 1 a', zcard: '$k', zcount: '$k 0 1', zdiff: '2 $k $k', zdiffstore: '$k 2 $k $k', zincrby: '$k 1 a', zinter: '2 $k $k',
  zintercard: '2 $k $k', zinterstore: '$k 2 $k $k', zlexcount: '$k - +', zmpop: '2 $k $k MIN', zmscore: '$k a', zpopmax: '$k',
  zpopmin: '$k', zrandmember: '$k', zrange: '$k 0 -1', zrangebylex: '$k - +', zrangebyscore: '$k 0 1', zrangestore: '$k $k 0 -1',
  zrank: '$k a', zrem: '$k a', zremrangebylex: '$k - +', zremrangebyrank: '$k 0 1', zremrangebyscore: '$k 0 1', zrevrange: '$k 0 -1',
  zrevrangebylex: '$k + -', zrevrangebyscore: '$k 1 0', zrevrank: '$k a', zscan: '$k 0', zscore: '$k a', zunion: '2 $k $k',
  zunionstore: '$k 2 $k $k',
};

/** Keyless commands an app may run, and why each one shows or changes nothing of another app's
 *  (the test in redis.test.ts checks each claim against the server). */
export const KEYLESS: Record<string, string> = {
  auth: 'switches the connection to another user only with that user\'s password (always allowed by Redis)',
  hello: 'the same, for HELLO ... AUTH; without AUTH it only picks the protocol',
  quit: 'closes the connection itself',
  reset: 'resets the connection itself, which is then not authenticated',
  ping: 'answers PONG', echo: 'answers its argument', time: 'the server\'s clock',
  select: 'only database 0 (SELECT 0); any other is refused',
  'client|id': 'its own connection\'s id', 'client|info': 'its own connection only', 'client|getname': 'its own connection\'s name',
  'client|setname': 'its own connection\'s name', 'client|reply': 'its own connection\'s replies',
  command: 'the server\'s command table, the same for every user', 'command|count': 'the same', 'command|docs': 'the same',
  'command|info': 'the same', 'command|list': 'the same', 'command|help': 'the same',
  'command|getkeys': 'parses the arguments it is given, reads no key', 'command|getkeysandflags': 'the same',
  multi: 'a transaction checks every queued command: one touching another app\'s key aborts it', exec: 'the same',
  discard: 'drops its own queued commands', unwatch: 'forgets its own watched keys',
  wait: 'the number of replicas (none)', 'acl|whoami': 'its own user name',
  eval: 'a script runs with the app\'s rights: every key it touches is checked', eval_ro: 'the same',
  evalsha: 'the same, for a cached script (another app\'s too: it still runs with the caller\'s rights)', evalsha_ro: 'the same',
  'script|load': 'adds a script to the cache by its SHA1: another app\'s cached scripts stay as they are',
  subscribe: 'only channels under its prefix', psubscribe: 'only patterns under its prefix',
  publish: 'only channels under its prefix',
  unsubscribe: 'its own connection\'s subscriptions', punsubscribe: 'the same', sunsubscribe: 'the same',
};
