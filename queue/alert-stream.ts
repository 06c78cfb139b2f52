import type { RedisClient } from '../core/redis-client.js';
import type { Region } from '../ingest/motion.js';
import { names } from './redis-connection.js';

/** An alert as clients see it. `id` is its stream entry id, so `since=<id>` resumes exactly after it. */
export interface Alert {
  id: string;
  alertId: string;
  cameraId: string;
  label: string;
  score: number;
  firstAt: number;
  lastAt: number;
  frames: number;
  box: Region | null;
  modelVersion: string;
  status: 'open' | 'update' | 'closed';
  snapshotUrl: string | null;
}

export type AlertInput = Omit<Alert, 'id' | 'alertId' | 'snapshotUrl'> & { alertId?: string; hasSnapshot: boolean };

const ID = /^\d{1,20}-\d{1,20}$/;

export function isStreamId(id: string): boolean {
  return ID.test(id);
}

function toAlert(id: string, fields: string[]): Alert {
  const raw = JSON.parse(fields[fields.indexOf('a') + 1]) as AlertInput;
  const alertId = raw.alertId ?? id;
  const { hasSnapshot, ...rest } = raw;
  return { ...rest, id, alertId, snapshotUrl: hasSnapshot ? `v1/alerts/${id}/snapshot.jpg` : null };
}

/**
 * Alerts in a capped Redis stream: every API instance reads the same history, and a client that
 * reconnects with the last id it saw gets exactly what it missed.
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
    const id = (await this.redis.xadd(this.key, 'MAXLEN', '~', String(this.maxLen), '*', 'a', JSON.stringify({ ...input, hasSnapshot: !!snapshot })))!;
    if (snapshot) await this.redis.set(this.n.snapshot(id), snapshot, 'EX', this.snapshotTtlS);
    return toAlert(id, ['a', JSON.stringify({ ...input, hasSnapshot: !!snapshot })]);
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
}
