import type { Cluster, Redis } from 'ioredis';

/** A Redis connection: one server, or a Redis Cluster (all Skywatch keys share one hash tag). */
export type RedisClient = Redis | Cluster;
