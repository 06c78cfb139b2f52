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

/** Queue and key names, all under the configured prefix (use `{skywatch}` for Redis Cluster). Every key Skywatch writes is named here. */
export const names = (prefix: string) => ({
  queuePrefix: prefix,
  frames: 'frames',
  pixels: (jobId: string) => `${prefix}:px:${jobId}`,
  /** Crop scores on their way back to the ingestor that owns the camera (one stream per ingestor). */
  results: (ownerId: string) => `${prefix}:results:${ownerId}`,
  alerts: `${prefix}:alerts`,
  snapshot: (id: string) => `${prefix}:alert-snap:${id}`,
  /** An alert's evidence clip (MP4), under its alertId. */
  clip: (alertId: string) => `${prefix}:alert-clip:${alertId}`,
  /** An alert's best crops (list of PNGs), under its alertId: `cropsKey` of the alert. */
  crops: (alertId: string) => `${prefix}:alert-crops:${alertId}`,
  /** Alerts of a camera still open (hash alertId -> last event), closed by whoever takes the camera over. */
  openAlerts: (cameraId: string) => `${prefix}:open-alerts:${cameraId}`,
  counters: `${prefix}:stream-counters`,
  cameras: `${prefix}:cameras`,
  /** Which ingestor pulls a camera (value: its id; expires unless renewed). */
  lease: (cameraId: string) => `${prefix}:ingest:lease:${cameraId}`,
  cameraStatus: (cameraId: string) => `${prefix}:ingest:status:${cameraId}`,
  cameraSnapshot: (cameraId: string) => `${prefix}:ingest:snapshot:${cameraId}`,
});
