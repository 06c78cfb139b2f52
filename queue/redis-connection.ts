import { Redis, type RedisOptions } from 'ioredis';

/**
 * Every Redis connection of Skywatch comes from here: retries forever with a capped delay (a Redis
 * restart must not kill ingest or workers), and BullMQ's requirement of no per-request retry limit.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(200 * times, 3_000),
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    ...options,
  });
  // Connection errors are retried by ioredis; the listener stops them from being thrown as unhandled.
  client.on('error', () => {});
  return client;
}

/** Queue and key names, all under the configured prefix (use `{skywatch}` for Redis Cluster). */
export const names = (prefix: string) => ({
  queuePrefix: prefix,
  frames: 'frames',
  pixels: (jobId: string) => `${prefix}:px:${jobId}`,
  alerts: `${prefix}:alerts`,
  snapshot: (id: string) => `${prefix}:alert-snap:${id}`,
  counters: `${prefix}:stream-counters`,
});
