import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Alert } from '../queue/alert-stream.js';
import { compareStreamIds, foldEvent, type AlertRecord, type FoldSettings, type ReviewVerdict } from './alert-record.js';
import { encodeCursor, whereOf, type AlertRecordRepository, type RecordPage, type RecordQuery } from './alert-record-repository.js';
import { MIGRATIONS } from './migrations.js';
import { verdictOf, type ReviewRow } from './review-row.js';

interface Row {
  body: string;
  last_event_id: string;
}

/**
 * Alert records in an embedded SQLite file (one machine, nothing to install). WAL mode lets readers
 * go on while the recorder writes; writes are short synchronous transactions.
 */
export class SqliteAlertRecords implements AlertRecordRepository {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
  }

  async migrate(): Promise<number> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const apply = this.db.transaction(() => {
      const done = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version));
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        this.db.exec(m.sqlite);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }
      return (this.db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v;
    });
    return apply.immediate();
  }

  async applyEvent(event: Alert, snapshot: Buffer | null, settings: FoldSettings): Promise<AlertRecord> {
    const tx = this.db.transaction((): AlertRecord => {
      const row = this.db.prepare('SELECT body, last_event_id FROM alert_records WHERE alert_id = ?').get(event.alertId) as Row | undefined;
      const prev = row ? (JSON.parse(row.body) as AlertRecord) : null;
      if (row && compareStreamIds(event.id, row.last_event_id) <= 0) return prev!;
      const { record, tookSnapshot } = foldEvent(prev, event, !!snapshot, settings);
      this.db.prepare(`INSERT INTO alert_records (alert_id, camera_id, label, score, first_at, last_at, status, uncertain, reviewed, last_event_id, body)
        VALUES (@alertId, @cameraId, @label, @score, @firstAt, @lastAt, @status, @uncertain, @reviewed, @lastEventId, @body)
        ON CONFLICT (alert_id) DO UPDATE SET camera_id = excluded.camera_id, label = excluded.label, score = excluded.score, first_at = excluded.first_at,
          last_at = excluded.last_at, status = excluded.status, uncertain = excluded.uncertain, last_event_id = excluded.last_event_id, body = excluded.body`).run({
        alertId: record.alertId, cameraId: record.cameraId, label: record.label, score: record.score, firstAt: record.firstAt, lastAt: record.lastAt,
        status: record.status, uncertain: record.uncertain ? 1 : 0, reviewed: record.review ? 1 : 0, lastEventId: event.id, body: JSON.stringify(record),
      });
      if (tookSnapshot && snapshot) {
        this.db.prepare('INSERT INTO alert_snapshots (alert_id, jpeg) VALUES (?, ?) ON CONFLICT (alert_id) DO UPDATE SET jpeg = excluded.jpeg').run(record.alertId, snapshot);
      }
      return record;
    });
    return tx.immediate();
  }

  async get(alertId: string): Promise<AlertRecord | null> {
    const row = this.db.prepare('SELECT body FROM alert_records WHERE alert_id = ?').get(alertId) as Row | undefined;
    return row ? (JSON.parse(row.body) as AlertRecord) : null;
  }

  async list(query: RecordQuery): Promise<RecordPage> {
    const params: unknown[] = [];
    const ph = (v: unknown) => (params.push(v), '?');
    const bool = (b: boolean) => (b ? 1 : 0);
    const rows = this.db.prepare(`SELECT body FROM alert_records ${whereOf(query, ph, bool, true)} ORDER BY first_at DESC, alert_id DESC LIMIT ${ph(query.limit + 1)}`).all(...params) as Row[];
    params.length = 0;
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM alert_records ${whereOf(query, ph, bool, false)}`).get(...params) as { n: number }).n;
    const items = rows.slice(0, query.limit).map((r) => JSON.parse(r.body) as AlertRecord);
    return { items, nextCursor: rows.length > query.limit ? encodeCursor(items[items.length - 1]) : null, total };
  }

  async snapshot(alertId: string): Promise<Buffer | null> {
    const row = this.db.prepare('SELECT jpeg FROM alert_snapshots WHERE alert_id = ?').get(alertId) as { jpeg: Buffer } | undefined;
    return row?.jpeg ?? null;
  }

  async review(alertId: string, verdict: ReviewVerdict): Promise<AlertRecord | null> {
    const tx = this.db.transaction((): AlertRecord | null => {
      const row = this.db.prepare('SELECT body FROM alert_records WHERE alert_id = ?').get(alertId) as Row | undefined;
      if (!row) return null;
      const record: AlertRecord = { ...(JSON.parse(row.body) as AlertRecord), review: verdict };
      this.db.prepare('UPDATE alert_records SET reviewed = 1, body = ? WHERE alert_id = ?').run(JSON.stringify(record), alertId);
      this.db.prepare('INSERT INTO alert_reviews (alert_id, action, label, note, by_whom, at) VALUES (?, ?, ?, ?, ?, ?)').run(alertId, verdict.action, verdict.label ?? null, verdict.note ?? null, verdict.by, verdict.at);
      return record;
    });
    return tx.immediate();
  }

  async reviews(alertId: string): Promise<ReviewVerdict[]> {
    const rows = this.db.prepare('SELECT action, label, note, by_whom, at FROM alert_reviews WHERE alert_id = ? ORDER BY id').all(alertId) as ReviewRow[];
    return rows.map(verdictOf);
  }

  async deleteBefore(before: number): Promise<number> {
    const tx = this.db.transaction((): number => {
      const old = 'SELECT alert_id FROM alert_records WHERE last_at < ?';
      this.db.prepare(`DELETE FROM alert_snapshots WHERE alert_id IN (${old})`).run(before);
      this.db.prepare(`DELETE FROM alert_reviews WHERE alert_id IN (${old})`).run(before);
      return this.db.prepare('DELETE FROM alert_records WHERE last_at < ?').run(before).changes;
    });
    return tx.immediate();
  }

  async getCursor(name: string): Promise<string | null> {
    const row = this.db.prepare('SELECT stream_id FROM recorder_cursors WHERE name = ?').get(name) as { stream_id: string } | undefined;
    return row?.stream_id ?? null;
  }

  async setCursor(name: string, streamId: string): Promise<void> {
    const tx = this.db.transaction(() => {
      const row = this.db.prepare('SELECT stream_id FROM recorder_cursors WHERE name = ?').get(name) as { stream_id: string } | undefined;
      if (row && compareStreamIds(streamId, row.stream_id) <= 0) return;
      this.db.prepare('INSERT INTO recorder_cursors (name, stream_id) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET stream_id = excluded.stream_id').run(name, streamId);
    });
    tx.immediate();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
