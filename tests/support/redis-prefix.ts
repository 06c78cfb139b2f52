import type { Redis } from 'ioredis';

/** Deletes every key a test wrote under its own prefix (the shared Redis outlives the test). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
}
