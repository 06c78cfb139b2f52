import type { RedisClient } from '../core/redis-client.js';
import { names } from '../core/redis-keys.js';

// Members are scored by when they expire, on Redis's clock (ingestors on several machines need not
// agree on the time). One call renews this member, forgets expired ones and counts the rest.
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])`;

/**
 * The ingestors alive now, so each can take its fair share of the cameras instead of the first one
 * to look taking them all. A member that stops renewing (it died) drops out after the lease time,
 * the same time its camera leases take to free themselves.
 */
export class IngestorRoster {
  private readonly key: string;
  /** Ingestors alive at the last heartbeat (this one included). */
  live = 1;

  constructor(private readonly redis: RedisClient, prefix: string, readonly ownerId: string, readonly leaseMs: number) {
    this.key = names(prefix).ingestors;
  }

  async heartbeat(): Promise<number> {
    this.live = Math.max(1, Number(await this.redis.eval(HEARTBEAT, 1, this.key, this.ownerId, String(this.leaseMs))));
    return this.live;
  }

  async leave(): Promise<void> {
    await this.redis.zrem(this.key, this.ownerId);
  }
}
