import type { RedisClient } from '../core/redis-client.js';
import type { CameraRuntime } from './camera-runtime.js';
import type { CameraStatus } from './camera-supervisor.js';

/** A camera that was live went down (backoff/failed), or came back; sinks turn it into an event. */
export interface CameraChange {
  cameraId: string;
  state: 'down' | 'up';
  error?: string;
  at: number;
}

/**
 * Camera status and latest snapshot as published by the ingestor that holds each camera, readable by
 * any API process. Entries expire, so a camera whose ingestor died shows no stale "live" state.
 */
export class CameraStatusBoard implements CameraRuntime {
  private readonly prefix: string;
  /** Last published state per camera, and whether it was reported down. */
  private readonly seen = new Map<string, { wasLive: boolean; down: boolean }>();
  private listener: ((change: CameraChange) => void) | null = null;

  constructor(private readonly redis: RedisClient, prefix: string, private readonly ttlMs: number) {
    this.prefix = `${prefix}:ingest:`;
  }

  /** Called when a camera this process publishes goes down after being live, or comes back. */
  onChange(listener: (change: CameraChange) => void): void {
    this.listener = listener;
  }

  async publish(status: CameraStatus & { ingestor: string }, jpeg: Buffer | null): Promise<void> {
    this.track(status);
    const multi = this.redis.multi().set(`${this.prefix}status:${status.id}`, JSON.stringify(status), 'PX', this.ttlMs);
    if (jpeg) multi.set(`${this.prefix}snapshot:${status.id}`, jpeg, 'PX', this.ttlMs);
    await multi.exec();
  }

  private track(status: CameraStatus): void {
    // A camera is down once it fails after having been live (a blip shorter than one ingest pass is not).
    const prev = this.seen.get(status.id) ?? { wasLive: false, down: false };
    const next = { ...prev };
    if (status.state === 'live') {
      if (prev.down) this.listener?.({ cameraId: status.id, state: 'up', at: status.since });
      next.wasLive = true;
      next.down = false;
    } else if ((status.state === 'backoff' || status.state === 'failed') && prev.wasLive && !prev.down) {
      next.down = true;
      this.listener?.({ cameraId: status.id, state: 'down', ...(status.lastError ? { error: status.lastError } : {}), at: status.since });
    }
    this.seen.set(status.id, next);
  }

  async remove(cameraId: string): Promise<void> {
    this.seen.delete(cameraId);
    await this.redis.del(`${this.prefix}status:${cameraId}`, `${this.prefix}snapshot:${cameraId}`);
  }

  async status(cameraId: string): Promise<CameraStatus | null> {
    const json = await this.redis.get(`${this.prefix}status:${cameraId}`);
    if (!json) return null;
    try {
      return JSON.parse(json) as CameraStatus;
    } catch {
      return null;
    }
  }

  snapshot(cameraId: string): Promise<Buffer | null> {
    return this.redis.getBuffer(`${this.prefix}snapshot:${cameraId}`);
  }

  async refresh(): Promise<void> {
    // Remote ingestors read the store on their own tick; there is nothing to poke from here.
  }
}
