import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisClient } from '../core/redis-client.js';

const CLUSTER = 'redis+cluster://';

/** `redis+cluster://host:port,host:port` names Redis Cluster seed nodes; anything else one server. */
export function clusterNodes(url: string): Array<{ host: string; port: number }> | null {
  if (!url.startsWith(CLUSTER)) return null;
  return url.slice(CLUSTER.length).split(',').filter(Boolean).map((hp) => {
    const [host, port] = hp.replace(/\/.*$/, '').split(':');
    return { host: host || '127.0.0.1', port: Number(port || 6379) };
  });
}

/**
 * Every Redis connection of Skywatch comes from here: retries forever with a capped delay (a Redis
 * restart must not kill ingest or workers), and BullMQ's requirement of no per-request retry limit.
 */
export function createRedis(url: string, options: RedisOptions = {}): RedisClient {
  const settings: RedisOptions = {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(200 * times, 3_000),
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    ...options,
  };
  const nodes = clusterNodes(url);
  // In a cluster every Skywatch key must share one slot: use a hash-tag prefix such as `{skywatch}`.
  const client: RedisClient = nodes
    ? new Cluster(nodes, { redisOptions: settings, clusterRetryStrategy: (times) => Math.min(200 * times, 3_000) })
    : new Redis(url, settings);
  // Connection errors are retried by ioredis; the listener stops them from being thrown as unhandled.
  client.on('error', () => {});
  return client;
}

/**
 * A second connection with the first one's settings. ioredis copies options, not listeners: without
 * its own error listener, every failed reconnect while Redis is down prints "Unhandled error event".
 */
export function duplicateRedis(client: RedisClient): RedisClient {
  const copy = client.duplicate();
  copy.on('error', () => {});
  return copy;
}

// Every key name lives in core/redis-keys.ts; re-exported here for the queue's users.
export { names } from '../core/redis-keys.js';
