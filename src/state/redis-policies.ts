// Redis's maxmemory policies, in a module of their own so that the CLI can check `berth up
// --redis-policy` without loading the settings schema (zod).
export const REDIS_POLICIES = ['volatile-lru', 'noeviction', 'allkeys-lru', 'volatile-lfu', 'allkeys-lfu', 'volatile-random', 'allkeys-random',
  'volatile-ttl'] as const;
export type RedisPolicy = (typeof REDIS_POLICIES)[number];
