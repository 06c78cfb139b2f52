import { randomBytes } from 'node:crypto';
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
  // Optional fields of the tracked pipeline (see the contracts in docs/REVIEW.md).
  trackId?: string;
  scores?: Record<string, number>;
  path?: Array<{ x: number; y: number; at: number }>;
  clipUrl?: string | null;
  cropsKey?: string | null;
  uncertain?: boolean;
}

export type AlertInput = Omit<Alert, 'id' | 'alertId' | 'snapshotUrl'> & { alertId?: string; hasSnapshot: boolean };

/** What is stored in the entry: the input plus where its snapshot lives. */
type StoredAlert = AlertInput & { snap?: string };

const ID = /^\d{1,20}-\d{1,20}$/;

export function isStreamId(id: string): boolean {
  return ID.test(id);
}

function parse(fields: string[]): StoredAlert {
  return JSON.parse(fields[fields.indexOf('a') + 1]) as StoredAlert;
}

function toAlert(id: string, fields: string[]): Alert {
  const raw = parse(fields);
  const alertId = raw.alertId ?? id;
  const { hasSnapshot, snap: _snap, ...rest } = raw;
  return { ...rest, id, alertId, snapshotUrl: hasSnapshot ? `v1/alerts/${id}/snapshot.jpg` : null };
}

/**
 * Alerts in a capped Redis stream: every API instance reads the same history, and a client that
 * reconnects with the last id it saw gets exactly what it missed.
 *
 * Snapshots are stored under a reference of their own before the entry that names them is written, so
 * no reader ever sees an alert whose snapshot is not there yet; an event without a new snapshot (the
 * closing one) names the alert's latest snapshot, so a closed alert keeps its picture.
 */
export class AlertStream {
  private readonly key: string;
  private readonly n: ReturnType<typeof names>;
  /** The latest snapshot reference of each alert still open (written by this publisher). */
  private readonly lastSnapshot = new Map<string, string>();

  constructor(private readonly redis: RedisClient, prefix: string, private readonly maxLen: number, private readonly snapshotTtlS = 24 * 3600) {
    this.n = names(prefix);
    this.key = this.n.alerts;
  }

  /** Stores the snapshot (if any), then appends the entry that refers to it. */
  async add(input: AlertInput, snapshot: Buffer | null): Promise<Alert> {
    let snap: string | undefined;
    if (snapshot) {
      snap = `s${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
      await this.redis.set(this.n.snapshot(snap), snapshot, 'EX', this.snapshotTtlS);
    } else if (input.alertId) {
      snap = this.lastSnapshot.get(input.alertId);
    }
    const stored: StoredAlert = { ...input, hasSnapshot: !!snap, ...(snap ? { snap } : {}) };
    const id = (await this.redis.xadd(this.key, 'MAXLEN', '~', String(this.maxLen), '*', 'a', JSON.stringify(stored)))!;
    const alert = toAlert(id, ['a', JSON.stringify(stored)]);
    if (input.status === 'closed') this.lastSnapshot.delete(alert.alertId);
    else if (snap) this.lastSnapshot.set(alert.alertId, snap);
    return alert;
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

  /** The snapshot of the entry `id` (null when it had none, or it expired, or the entry was trimmed). */
  async snapshot(id: string): Promise<Buffer | null> {
    const rows = (await this.redis.xrange(this.key, id, id)) as Array<[string, string[]]>;
    const snap = rows[0] ? parse(rows[0][1]).snap : undefined;
    // Entries written before snapshot references kept theirs under the entry id.
    return this.redis.getBuffer(this.n.snapshot(snap ?? id));
  }
}
