import type { RedisClient } from '../core/redis-client.js';
import { names } from '../core/redis-keys.js';
import type { CameraRuntime } from './camera-runtime.js';
import type { CameraStatus } from './camera-supervisor.js';

/**
 * Camera status and latest snapshot as published by the ingestor that holds each camera, readable by
 * any API process. Entries expire, so a camera whose ingestor died shows no stale "live" state.
 */
export class CameraStatusBoard implements CameraRuntime {
  private readonly n: ReturnType<typeof names>;

  constructor(private readonly redis: RedisClient, prefix: string, private readonly ttlMs: number) {
    this.n = names(prefix);
  }

  async publish(status: CameraStatus & { ingestor: string }, jpeg: Buffer | null): Promise<void> {
    const multi = this.redis.multi().set(this.n.cameraStatus(status.id), JSON.stringify(status), 'PX', this.ttlMs);
    if (jpeg) multi.set(this.n.cameraSnapshot(status.id), jpeg, 'PX', this.ttlMs);
    await multi.exec();
  }

  async remove(cameraId: string): Promise<void> {
    await this.redis.del(this.n.cameraStatus(cameraId), this.n.cameraSnapshot(cameraId));
  }

  async status(cameraId: string): Promise<CameraStatus | null> {
    const json = await this.redis.get(this.n.cameraStatus(cameraId));
    if (!json) return null;
    try {
      return JSON.parse(json) as CameraStatus;
    } catch {
      return null;
    }
  }

  snapshot(cameraId: string): Promise<Buffer | null> {
    return this.redis.getBuffer(this.n.cameraSnapshot(cameraId));
  }

  async refresh(): Promise<void> {
    // Remote ingestors read the store on their own tick; there is nothing to poke from here.
  }
}
