import type { RedisClient } from '../core/redis-client.js';
import type { Box } from '../core/image/crop-pixels.js';
import { names } from './redis-connection.js';

/** An alert as clients see it. `id` is its stream entry id, so `since=<id>` resumes exactly after it. */
export interface Alert {
  id: string;
  /** The stream id of the alert's open event: every update and the closing event carry it. */
  alertId: string;
  cameraId: string;
  label: string;
  score: number;
  firstAt: number;
  lastAt: number;
  frames: number;
  box: Box | null;
  modelVersion: string;
  status: 'open' | 'update' | 'closed';
  snapshotUrl: string | null;
  /** Camera-scoped id of the tracked object the alert is about. */
  trackId?: string;
  /** The verdict's score per label. */
  scores?: Record<string, number>;
  /** Box centres over the track's life, frame pixels. */
  path?: Array<{ x: number; y: number; at: number }>;
  /** A few seconds of the track as MP4, once encoded. */
  clipUrl?: string | null;
  /** Redis key of the track's best crops (a list of PNGs), for feedback. */
  cropsKey?: string | null;
  uncertain?: boolean;
}

export type AlertInput = Omit<Alert, 'id' | 'alertId' | 'snapshotUrl' | 'clipUrl'> & {
  alertId?: string;
  hasSnapshot: boolean;
  /** The entry whose snapshot this event shows (an earlier one of the alert): a closing event keeps the alert's picture. */
  snapshotOf?: string;
  /** The alert whose clip is stored (its alertId). */
  clipOf?: string;
};

const ID = /^\d{1,20}-\d{1,20}$/;

export function isStreamId(id: string): boolean {
  return ID.test(id);
}

function toAlert(id: string, fields: string[]): Alert {
  const raw = JSON.parse(fields[fields.indexOf('a') + 1]) as AlertInput;
  const alertId = raw.alertId ?? id;
  const { hasSnapshot, snapshotOf, clipOf, ...rest } = raw;
  const snapshotUrl = hasSnapshot ? `v1/alerts/${id}/snapshot.jpg` : snapshotOf ? `v1/alerts/${snapshotOf}/snapshot.jpg` : null;
  return { ...rest, id, alertId, snapshotUrl, ...(clipOf !== undefined || rest.trackId !== undefined ? { clipUrl: clipOf ? `v1/alerts/${clipOf}/clip.mp4` : null } : {}) };
}

/**
 * Alerts in a capped Redis stream: every API instance reads the same history, and a client that
 * reconnects with the last id it saw gets exactly what it missed. Snapshots, clips and crops are kept
 * beside it for a day.
 */
export class AlertStream {
  private readonly key: string;
  private readonly n: ReturnType<typeof names>;

  constructor(private readonly redis: RedisClient, prefix: string, private readonly maxLen: number, private readonly snapshotTtlS = 24 * 3600) {
    this.n = names(prefix);
    this.key = this.n.alerts;
  }

  /** Appends; the snapshot (if any) is stored under the entry's id. */
  async add(input: AlertInput, snapshot: Buffer | null): Promise<Alert> {
    const json = JSON.stringify({ ...input, hasSnapshot: !!snapshot });
    const id = (await this.redis.xadd(this.key, 'MAXLEN', '~', String(this.maxLen), '*', 'a', json))!;
    if (snapshot) await this.redis.set(this.n.snapshot(id), snapshot, 'EX', this.snapshotTtlS);
    return toAlert(id, ['a', json]);
  }

  /** Entries strictly after `since` ('0-0' for all), oldest first. */
  async after(since: string, count = 500): Promise<Alert[]> {
    const rows = (await this.redis.xrange(this.key, `(${since}`, '+', 'COUNT', count)) as Array<[string, string[]]>;
    return rows.map(([id, f]) => toAlert(id, f));
  }

  /** The newest `count` entries, newest first. */
  async latest(count: number): Promise<Alert[]> {
    const rows = (await this.redis.xrevrange(this.key, '+', '-', 'COUNT', count)) as Array<[string, string[]]>;
    return rows.map(([id, f]) => toAlert(id, f));
  }

  /** Blocks up to `blockMs` for entries after `lastId` (use a connection of its own). */
  async wait(lastId: string, blockMs: number, reader: RedisClient): Promise<Alert[]> {
    const res = (await reader.xread('COUNT', 200, 'BLOCK', blockMs, 'STREAMS', this.key, lastId)) as Array<[string, Array<[string, string[]]>]> | null;
    return res ? res[0][1].map(([id, f]) => toAlert(id, f)) : [];
  }

  async lastId(): Promise<string> {
    const rows = (await this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
    return rows[0]?.[0] ?? '0-0';
  }

  async snapshot(id: string): Promise<Buffer | null> {
    return this.redis.getBuffer(this.n.snapshot(id));
  }

  async putClip(alertId: string, mp4: Buffer): Promise<void> {
    await this.redis.set(this.n.clip(alertId), mp4, 'EX', this.snapshotTtlS);
  }

  async clip(alertId: string): Promise<Buffer | null> {
    return this.redis.getBuffer(this.n.clip(alertId));
  }

  /** Stores an alert's best crops (PNG) and returns their key (the alert's `cropsKey`). */
  async putCrops(alertId: string, pngs: Buffer[]): Promise<string | null> {
    if (pngs.length === 0) return null;
    const key = this.n.crops(alertId);
    await this.redis.multi().del(key).rpush(key, ...pngs).expire(key, this.snapshotTtlS).exec();
    return key;
  }

  async crops(alertId: string): Promise<Buffer[]> {
    return this.redis.lrangeBuffer(this.n.crops(alertId), 0, -1);
  }
}
