import type { RedisClient } from '../core/redis-client.js';
import { names } from '../core/redis-keys.js';

// Extend only a lease this ingestor still holds: after a pause longer than the lease another ingestor
// may own the camera, and a blind PEXPIRE would steal the time back.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Camera leases in Redis: a camera is pulled by the ingestor whose id is stored at its lease key.
 * Leases expire unless renewed, so the cameras of an ingestor that died free themselves.
 */
export class CameraLeases {
  private readonly prefix: string;

  constructor(private readonly redis: RedisClient, prefix: string, readonly ownerId: string, readonly leaseMs: number) {
    this.prefix = names(prefix).lease('');
  }

  /** True when this ingestor now holds the camera (taken fresh, or already held and extended). */
  async acquire(cameraId: string): Promise<boolean> {
    const ok = await this.redis.set(this.prefix + cameraId, this.ownerId, 'PX', this.leaseMs, 'NX');
    return ok === 'OK' || this.renew(cameraId);
  }

  /** False when the lease was lost (expired, or taken by another ingestor). */
  async renew(cameraId: string): Promise<boolean> {
    return (await this.redis.eval(RENEW, 1, this.prefix + cameraId, this.ownerId, String(this.leaseMs))) === 1;
  }

  async release(cameraId: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.prefix + cameraId, this.ownerId);
  }

  /** Who holds a camera now, if anyone. */
  holder(cameraId: string): Promise<string | null> {
    return this.redis.get(this.prefix + cameraId);
  }
}
