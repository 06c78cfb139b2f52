import pg from 'pg';
import type { Alert } from '../queue/alert-stream.js';
import { compareStreamIds, foldEvent, type AlertRecord, type FoldSettings, type ReviewVerdict } from './alert-record.js';
import { encodeCursor, whereOf, type AlertRecordRepository, type RecordPage, type RecordQuery } from './alert-record-repository.js';
import { MIGRATIONS } from './migrations.js';
import { verdictOf, type ReviewRow } from './review-row.js';

export interface PostgresOptions {
  url: string;
  /** A schema of its own (tests use one per run); default `public`. */
  schema?: string;
  maxConnections?: number;
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Alert records in PostgreSQL, for several API processes sharing them. Folding an event locks its
 * record row (SELECT ... FOR UPDATE), so concurrent recorders fold each event exactly once.
 */
export class PostgresAlertRecords implements AlertRecordRepository {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly schema: string;

  constructor(options: PostgresOptions) {
    this.schema = options.schema ?? 'public';
    if (!SCHEMA.test(this.schema)) throw new Error(`invalid PostgreSQL schema name: ${this.schema}`);
    this.pool = new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 4, options: `-c search_path=${this.schema}`, connectionTimeoutMillis: 10_000 });
    // An idle client that loses its server must not crash the process; the next query reconnects.
    this.pool.on('error', () => {});
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async migrate(): Promise<number> {
    return this.tx(async (c) => {
      // Two processes starting at once: one migrates, the other waits and finds it done.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`skywatch-migrate-${this.schema}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      const done = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        await c.query(m.postgres);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      }
      return (await c.query<{ v: number }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0].v;
    });
  }

  async applyEvent(event: Alert, snapshot: Buffer | null, settings: FoldSettings): Promise<AlertRecord> {
    return this.tx(async (c) => {
      // Locks the row, or (first event) the alert id, so two recorders never fold one alert at once.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`skywatch-alert-${event.alertId}`]);
      const row = (await c.query<{ body: string; last_event_id: string }>('SELECT body, last_event_id FROM alert_records WHERE alert_id = $1 FOR UPDATE', [event.alertId])).rows[0];
      const prev = row ? (JSON.parse(row.body) as AlertRecord) : null;
      if (row && compareStreamIds(event.id, row.last_event_id) <= 0) return prev!;
      const { record, tookSnapshot } = foldEvent(prev, event, !!snapshot, settings);
      await c.query(`INSERT INTO alert_records (alert_id, camera_id, label, score, first_at, last_at, status, uncertain, reviewed, last_event_id, body)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (alert_id) DO UPDATE SET camera_id = excluded.camera_id, label = excluded.label, score = excluded.score, first_at = excluded.first_at,
          last_at = excluded.last_at, status = excluded.status, uncertain = excluded.uncertain, last_event_id = excluded.last_event_id, body = excluded.body`,
      [record.alertId, record.cameraId, record.label, record.score, record.firstAt, record.lastAt, record.status, record.uncertain, !!record.review, event.id, JSON.stringify(record)]);
      if (tookSnapshot && snapshot) {
        await c.query('INSERT INTO alert_snapshots (alert_id, jpeg) VALUES ($1, $2) ON CONFLICT (alert_id) DO UPDATE SET jpeg = excluded.jpeg', [record.alertId, snapshot]);
      }
      return record;
    });
  }

  async get(alertId: string): Promise<AlertRecord | null> {
    const row = (await this.pool.query<{ body: string }>('SELECT body FROM alert_records WHERE alert_id = $1', [alertId])).rows[0];
    return row ? (JSON.parse(row.body) as AlertRecord) : null;
  }

  async list(query: RecordQuery): Promise<RecordPage> {
    let params: unknown[] = [];
    const ph = (v: unknown) => (params.push(v), `$${params.length}`);
    const bool = (b: boolean) => b;
    const rowsSql = `SELECT body FROM alert_records ${whereOf(query, ph, bool, true)} ORDER BY first_at DESC, alert_id DESC LIMIT ${ph(query.limit + 1)}`;
    const rows = (await this.pool.query<{ body: string }>(rowsSql, params)).rows;
    params = [];
    const countSql = `SELECT COUNT(*)::int AS n FROM alert_records ${whereOf(query, ph, bool, false)}`;
    const total = (await this.pool.query<{ n: number }>(countSql, params)).rows[0].n;
    const items = rows.slice(0, query.limit).map((r) => JSON.parse(r.body) as AlertRecord);
    return { items, nextCursor: rows.length > query.limit ? encodeCursor(items[items.length - 1]) : null, total };
  }

  async snapshot(alertId: string): Promise<Buffer | null> {
    return (await this.pool.query<{ jpeg: Buffer }>('SELECT jpeg FROM alert_snapshots WHERE alert_id = $1', [alertId])).rows[0]?.jpeg ?? null;
  }

  async review(alertId: string, verdict: ReviewVerdict): Promise<AlertRecord | null> {
    return this.tx(async (c) => {
      const row = (await c.query<{ body: string }>('SELECT body FROM alert_records WHERE alert_id = $1 FOR UPDATE', [alertId])).rows[0];
      if (!row) return null;
      const record: AlertRecord = { ...(JSON.parse(row.body) as AlertRecord), review: verdict };
      await c.query('UPDATE alert_records SET reviewed = TRUE, body = $1 WHERE alert_id = $2', [JSON.stringify(record), alertId]);
      await c.query('INSERT INTO alert_reviews (alert_id, action, label, note, by_whom, at) VALUES ($1, $2, $3, $4, $5, $6)', [alertId, verdict.action, verdict.label ?? null, verdict.note ?? null, verdict.by, verdict.at]);
      return record;
    });
  }

  async reviews(alertId: string): Promise<ReviewVerdict[]> {
    const rows = (await this.pool.query<ReviewRow>('SELECT action, label, note, by_whom, at FROM alert_reviews WHERE alert_id = $1 ORDER BY id', [alertId])).rows;
    return rows.map(verdictOf);
  }

  async deleteBefore(before: number): Promise<number> {
    return this.tx(async (c) => {
      const old = 'SELECT alert_id FROM alert_records WHERE last_at < $1';
      await c.query(`DELETE FROM alert_snapshots WHERE alert_id IN (${old})`, [before]);
      await c.query(`DELETE FROM alert_reviews WHERE alert_id IN (${old})`, [before]);
      return (await c.query('DELETE FROM alert_records WHERE last_at < $1', [before])).rowCount ?? 0;
    });
  }

  async getCursor(name: string): Promise<string | null> {
    return (await this.pool.query<{ stream_id: string }>('SELECT stream_id FROM recorder_cursors WHERE name = $1', [name])).rows[0]?.stream_id ?? null;
  }

  async setCursor(name: string, streamId: string): Promise<void> {
    await this.tx(async (c) => {
      const row = (await c.query<{ stream_id: string }>('SELECT stream_id FROM recorder_cursors WHERE name = $1 FOR UPDATE', [name])).rows[0];
      if (row && compareStreamIds(streamId, row.stream_id) <= 0) return;
      await c.query('INSERT INTO recorder_cursors (name, stream_id) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET stream_id = excluded.stream_id', [name, streamId]);
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
