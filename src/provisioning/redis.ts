// Redis provisioning (ACL users), run by the services worker with @redis/client.
import { createClient } from '@redis/client';
import type { AdminEndpoint, RedisGrant } from './model.js';

async function connect(a: AdminEndpoint) {
  const c = createClient({ socket: { host: a.host, port: a.port, connectTimeout: 10_000, reconnectStrategy: false }, username: a.user, password: a.password });
  c.on('error', () => undefined); // errors surface on the awaited command
  await c.connect();
  return c;
}

/** The app's ACL user: its passwords, its key and channel prefix, no admin or dangerous commands. */
export function aclRules(g: RedisGrant): string[] {
  return ['reset', 'on', ...g.passwords.map((p) => `>${p}`), `~${g.prefix}*`, `&${g.prefix}*`, '+@all', '-@dangerous', '-@admin'];
}

export async function applyRedis(a: AdminEndpoint, g: RedisGrant): Promise<void> {
  const c = await connect(a);
  try {
    await c.sendCommand(['ACL', 'SETUSER', g.user, ...aclRules(g)]);
    await c.sendCommand(['ACL', 'SAVE']);
  } finally {
    await c.quit();
  }
}

export async function redisStatus(a: AdminEndpoint): Promise<{ version: string; connections: number; used_bytes: number }> {
  const c = await connect(a);
  try {
    const info = await c.info();
    const field = (k: string) => new RegExp(`^${k}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
    return { version: field('redis_version'), connections: Number(field('connected_clients')), used_bytes: Number(field('used_memory')) };
  } finally {
    await c.quit();
  }
}

/** Deletes the app's ACL user and every key under its prefix. */
export async function dropRedis(a: AdminEndpoint, g: RedisGrant): Promise<number> {
  const c = await connect(a);
  let deleted = 0;
  try {
    await c.sendCommand(['ACL', 'DELUSER', g.user]);
    await c.sendCommand(['ACL', 'SAVE']);
    for await (const key of c.scanIterator({ MATCH: `${g.prefix}*`, COUNT: 500 })) {
      deleted += Number(await c.sendCommand(['UNLINK', key]));
    }
  } finally {
    await c.quit();
  }
  return deleted;
}
