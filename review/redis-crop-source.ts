import type { RedisClient } from '../core/redis-client.js';
import type { CropSource } from './feedback-store.js';

/**
 * Crops by an alert's `cropsKey` when it names a Redis key: a list of PNG images (the track's best
 * crops) or a single one. Keys that expired give no crops (the snapshot is used instead).
 */
export function redisCropSource(redis: RedisClient): CropSource {
  return async (key) => {
    const type = await redis.type(key);
    if (type === 'list') return redis.lrangeBuffer(key, 0, 15);
    if (type === 'string') {
      const one = await redis.getBuffer(key);
      return one ? [one] : [];
    }
    return [];
  };
}
