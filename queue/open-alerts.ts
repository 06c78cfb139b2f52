import type { RedisClient } from '../core/redis-client.js';
import type { AlertInput } from './alert-stream.js';
import { names } from './redis-connection.js';

/** The last event of an alert still open, enough to close it. */
export type OpenAlert = AlertInput & { alertId: string; lastEventId: string };

/**
 * Alerts still open, per camera, in Redis: the owner marks each alert on open and update and clears it
 * on close, so when an ingestor dies (or a process restarts) whoever takes the camera over closes what
 * it left open instead of leaving alerts open forever.
 */
export class OpenAlerts {
  private readonly n: ReturnType<typeof names>;

  constructor(private readonly redis: RedisClient, prefix: string) {
    this.n = names(prefix);
  }

  async mark(cameraId: string, alert: OpenAlert): Promise<void> {
    await this.redis.hset(this.n.openAlerts(cameraId), alert.alertId, JSON.stringify(alert));
  }

  async clear(cameraId: string, alertId: string): Promise<void> {
    await this.redis.hdel(this.n.openAlerts(cameraId), alertId);
  }

  /** Every open alert of the camera, removed from the set (the caller closes them). */
  async takeAll(cameraId: string): Promise<OpenAlert[]> {
    const key = this.n.openAlerts(cameraId);
    const [[, all]] = (await this.redis.multi().hgetall(key).del(key).exec()) as [[Error | null, Record<string, string>], unknown];
    return Object.values(all ?? {}).flatMap((json) => {
      try {
        return [JSON.parse(json) as OpenAlert];
      } catch {
        return [];
      }
    });
  }
}
