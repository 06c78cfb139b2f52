import { SkywatchError } from '../core/errors.js';
import type { Alert } from '../queue/alert-stream.js';
import type { AlertRecord, FoldSettings, ReviewVerdict } from './alert-record.js';

export interface RecordQuery {
  camera?: string;
  label?: string;
  minScore?: number;
  /** First seen at or after / at or before (ms since the epoch). */
  from?: number;
  to?: number;
  reviewed?: boolean;
  uncertain?: boolean;
  /** From the previous page's `nextCursor`. */
  cursor?: string;
  limit: number;
}

export interface RecordPage {
  items: AlertRecord[];
  nextCursor: string | null;
  /** Records matching the filters, over all pages. */
  total: number;
}

/**
 * Alert records, their best snapshots and the operators' reviews, in a database (SQLite or
 * PostgreSQL). Folding is idempotent: an event already folded (by id) changes nothing, so several
 * recorders may feed one database.
 */
export interface AlertRecordRepository {
  readonly kind: 'sqlite' | 'postgres';
  /** Brings the schema to the newest version; returns it. */
  migrate(): Promise<number>;
  /** Folds a live event into its record; `snapshot` is the event's snapshot, kept if it is the best. */
  applyEvent(event: Alert, snapshot: Buffer | null, settings: FoldSettings): Promise<AlertRecord>;
  get(alertId: string): Promise<AlertRecord | null>;
  list(query: RecordQuery): Promise<RecordPage>;
  snapshot(alertId: string): Promise<Buffer | null>;
  /** Records the verdict (the latest one is the record's); null when there is no such alert. */
  review(alertId: string, verdict: ReviewVerdict): Promise<AlertRecord | null>;
  /** Every verdict given on an alert, oldest first. */
  reviews(alertId: string): Promise<ReviewVerdict[]>;
  /** Deletes records last seen before `before` (ms), with their snapshots and reviews; returns how many. */
  deleteBefore(before: number): Promise<number>;
  /** Where a recorder got to in the live stream. */
  getCursor(name: string): Promise<string | null>;
  setCursor(name: string, streamId: string): Promise<void>;
  close(): Promise<void>;
}

/** Newest first: a page ends at (firstAt, alertId) and the next starts strictly before it. */
export function encodeCursor(record: Pick<AlertRecord, 'firstAt' | 'alertId'>): string {
  return Buffer.from(JSON.stringify([record.firstAt, record.alertId])).toString('base64url');
}

export function decodeCursor(cursor: string): { firstAt: number; alertId: string } {
  try {
    const [firstAt, alertId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof firstAt === 'number' && Number.isFinite(firstAt) && typeof alertId === 'string') return { firstAt, alertId };
  } catch {}
  throw new SkywatchError('BAD_REQUEST', 'cursor is not one this server gave', { field: 'cursor' });
}

/** The WHERE clause of a query in either dialect: `ph` makes a placeholder, `bool` a boolean value. */
export function whereOf(q: RecordQuery, ph: (value: unknown) => string, bool: (b: boolean) => unknown, withCursor: boolean): string {
  const parts: string[] = [];
  if (q.camera) parts.push(`camera_id = ${ph(q.camera)}`);
  if (q.label) parts.push(`label = ${ph(q.label)}`);
  if (q.minScore !== undefined) parts.push(`score >= ${ph(q.minScore)}`);
  if (q.from !== undefined) parts.push(`first_at >= ${ph(q.from)}`);
  if (q.to !== undefined) parts.push(`first_at <= ${ph(q.to)}`);
  if (q.reviewed !== undefined) parts.push(`reviewed = ${ph(bool(q.reviewed))}`);
  if (q.uncertain !== undefined) parts.push(`uncertain = ${ph(bool(q.uncertain))}`);
  if (withCursor && q.cursor) {
    const c = decodeCursor(q.cursor);
    parts.push(`(first_at < ${ph(c.firstAt)} OR (first_at = ${ph(c.firstAt)} AND alert_id < ${ph(c.alertId)}))`);
  }
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}
