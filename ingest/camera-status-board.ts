import type { RedisClient } from '../core/redis-client.js';
import { names } from '../core/redis-keys.js';
import type { CameraRuntime } from './camera-runtime.js';
import type { CameraStatus } from './camera-supervisor.js';

/** A camera that was live went down (backoff/failed), or came back; sinks turn it into an event. */
export interface CameraChange {
  cameraId: string;
  state: 'down' | 'up';
  error?: string;
  at: number;
}

/** What is kept of a play-once camera that played to its end. */
interface EndedRecord {
  updatedAt: number;
  status: CameraStatus;
}

function parseJson<T>(json: string): T | null {
  try {
    return JSON.parse(json) as T;
  } catch {
    return null;
  }
}

/** How long a preview request keeps a camera's frames published (a dashboard asks every few seconds). */
const PREVIEW_WANTED_MS = 30_000;
/** How often a request for a preview not published yet looks again. */
const PREVIEW_POLL_MS = 200;

/**
 * Camera status and latest snapshot as published by the ingestor that holds each camera, readable by
 * any API process. Entries expire, so a camera whose ingestor died shows no stale "live" state.
 *
 * A play-once camera that played to its end is the exception: its final status is kept (no expiry,
 * keepEnded) until the camera changes or is deleted, so the ingestor frees its slot and lease, `ended`
 * survives restarts (the recording is not played again), and every API process still reports it.
 *
 * Previews are published on demand: encoding every camera's latest frame as JPEG on every ingest pass
 * cost the ingest process about as much as a camera's motion detection, for pictures nobody looked at.
 * A request marks the camera wanted for a while; the holding ingestor publishes only wanted cameras.
 */
export class CameraStatusBoard implements CameraRuntime {
  private readonly n: ReturnType<typeof names>;
  /** Last published state per camera, and whether it was reported down. */
  private readonly seen = new Map<string, { wasLive: boolean; down: boolean }>();
  private listener: ((change: CameraChange) => void) | null = null;

  constructor(private readonly redis: RedisClient, prefix: string, private readonly ttlMs: number) {
    this.n = names(prefix);
  }

  /** Called when a camera this process publishes goes down after being live, or comes back. */
  onChange(listener: (change: CameraChange) => void): void {
    this.listener = listener;
  }

  async publish(status: CameraStatus & { ingestor: string }, jpeg: Buffer | null): Promise<void> {
    this.track(status);
    const multi = this.redis.multi().set(this.n.cameraStatus(status.id), JSON.stringify(status), 'PX', this.ttlMs);
    if (jpeg) multi.set(this.n.cameraSnapshot(status.id), jpeg, 'PX', this.ttlMs);
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
    await this.redis.del(this.n.cameraStatus(cameraId), this.n.cameraSnapshot(cameraId), this.n.cameraSnapshotWanted(cameraId));
  }

  async status(cameraId: string): Promise<CameraStatus | null> {
    // One round trip for both: the dashboard asks for every camera's status every few seconds.
    const [[, json], [, ended]] = (await this.redis.multi().get(this.n.cameraStatus(cameraId)).hget(this.n.camerasEnded, cameraId).exec()) as [[Error | null, string | null], [Error | null, string | null]];
    if (json) return parseJson<CameraStatus>(json);
    return ended ? parseJson<EndedRecord>(ended)?.status ?? null : null;
  }

  /**
   * Keeps a play-once camera's final status (`ended`) and its last picture for as long as the camera
   * stays as it was (`updatedAt`).
   */
  async keepEnded(status: CameraStatus, updatedAt: number, jpeg: Buffer | null): Promise<void> {
    const record: EndedRecord = { updatedAt, status };
    const multi = this.redis.multi().hset(this.n.camerasEnded, status.id, JSON.stringify(record));
    if (jpeg) multi.set(this.n.cameraEndedSnapshot(status.id), jpeg);
    await multi.exec();
  }

  async ended(): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(this.n.camerasEnded);
    const ended = new Map<string, number>();
    for (const [id, json] of Object.entries(all)) {
      const updatedAt = parseJson<EndedRecord>(json)?.updatedAt;
      if (typeof updatedAt === 'number') ended.set(id, updatedAt);
    }
    return ended;
  }

  async forgetEnded(cameraId: string): Promise<void> {
    await this.redis.multi().hdel(this.n.camerasEnded, cameraId).del(this.n.cameraEndedSnapshot(cameraId)).exec();
  }

  /**
   * The latest published preview of a camera; asks its ingestor to keep publishing one. A camera that
   * nobody looked at lately has none yet: the request waits (at most half the entries' lifetime) for
   * the holding ingestor's next pass to publish it.
   */
  async snapshot(cameraId: string): Promise<Buffer | null> {
    const key = this.n.cameraSnapshot(cameraId);
    const [[, jpeg]] = (await this.redis.multi().getBuffer(key).set(this.n.cameraSnapshotWanted(cameraId), '1', 'PX', PREVIEW_WANTED_MS).exec()) as [[Error | null, Buffer | null], unknown];
    if (jpeg) return jpeg;
    // A recording that has ended publishes nothing more: its last picture was kept.
    const kept = await this.redis.getBuffer(this.n.cameraEndedSnapshot(cameraId));
    if (kept) return kept;
    const until = Date.now() + this.ttlMs / 2;
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, PREVIEW_POLL_MS));
      const next = await this.redis.getBuffer(key);
      if (next) return next;
    }
    return null;
  }

  /** Which of these cameras someone asked to see lately (their ingestor publishes their previews). */
  async wanted(cameraIds: readonly string[]): Promise<Set<string>> {
    if (cameraIds.length === 0) return new Set();
    const flags = await this.redis.mget(...cameraIds.map((id) => this.n.cameraSnapshotWanted(id)));
    return new Set(cameraIds.filter((_, i) => flags[i] !== null));
  }

  async refresh(): Promise<void> {
    // Remote ingestors read the store on their own tick; there is nothing to poke from here.
  }
}
