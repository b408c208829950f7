// Redis provisioning (ACL users), run by the services worker with @redis/client. What to send is
// planned by redis-acl.ts (pure); this file only sends it.
import { createClient } from '@redis/client';
import { BerthError } from '../lib/errors.js';
import { type AdminEndpoint, type RedisGrant, redisLogin } from './model.js';
import { redisPlan } from './redis-acl.js';

async function connect(a: AdminEndpoint) {
  const c = createClient({ socket: { host: a.host, port: a.port, connectTimeout: 10_000, reconnectStrategy: false }, username: a.user, password: a.password });
  c.on('error', () => undefined); // errors surface on the awaited command
  await c.connect();
  return c;
}

/** The server's command names (COMMAND LIST, Redis 7 and later), subcommands as `client|id`. */
async function commandList(c: Awaited<ReturnType<typeof connect>>): Promise<Set<string>> {
  const names = await c.sendCommand(['COMMAND', 'LIST']).catch((e: Error) => {
    throw new BerthError('unavailable', `Redis did not answer COMMAND LIST (${e.message})`, 'berth needs Redis 7 or later');
  });
  return new Set((names as string[]).map((n) => n.toLowerCase()));
}

/** Makes the app's ACL users match the grant; returns how many connections of disabled users it closed. */
export async function applyRedis(a: AdminEndpoint, g: RedisGrant): Promise<{ closed: number }> {
  const c = await connect(a);
  let closed = 0;
  try {
    for (const argv of redisPlan(g, await commandList(c))) {
      const r = await c.sendCommand(argv);
      if (argv[1] === 'KILL') closed += Number(r);
    }
  } finally {
    await c.quit();
  }
  return { closed };
}

export interface RedisStatus {
  version: string; connections: number; used_bytes: number; maxmemory_bytes: number; maxmemory_policy: string; memory_used_pct: number | null;
}

export async function redisStatus(a: AdminEndpoint): Promise<RedisStatus> {
  const c = await connect(a);
  try {
    const info = await c.info();
    const field = (k: string) => new RegExp(`^${k}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
    const used = Number(field('used_memory'));
    const max = Number(field('maxmemory'));
    return { version: field('redis_version'), connections: Number(field('connected_clients')), used_bytes: used, maxmemory_bytes: max,
      maxmemory_policy: field('maxmemory_policy'), memory_used_pct: max > 0 ? Math.round((used / max) * 1000) / 10 : null };
  } finally {
    await c.quit();
  }
}

/** Deletes the app's ACL users (which closes their connections) and every key under its prefix. */
export async function dropRedis(a: AdminEndpoint, g: RedisGrant): Promise<number> {
  const c = await connect(a);
  let deleted = 0;
  try {
    await c.sendCommand(['ACL', 'DELUSER', redisLogin(g, 'a'), redisLogin(g, 'b'), g.user]);
    await c.sendCommand(['ACL', 'SAVE']);
    for await (const key of c.scanIterator({ MATCH: `${g.prefix}*`, COUNT: 500 })) {
      deleted += Number(await c.sendCommand(['UNLINK', key]));
    }
  } finally {
    await c.quit();
  }
  return deleted;
}
