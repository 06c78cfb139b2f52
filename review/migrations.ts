/**
 * The review database's schema, as numbered migrations applied in order and recorded in
 * `schema_migrations`. A migration is never edited once released: changes are new migrations.
 * The two dialects differ only in types (SQLite has no BOOLEAN/BYTEA/BIGSERIAL).
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

const records = (t: { real: string; bool: string; blob: string; serial: string }) => `
CREATE TABLE alert_records (
  alert_id TEXT PRIMARY KEY,
  camera_id TEXT NOT NULL,
  label TEXT NOT NULL,
  score ${t.real} NOT NULL,
  first_at BIGINT NOT NULL,
  last_at BIGINT NOT NULL,
  status TEXT NOT NULL,
  uncertain ${t.bool} NOT NULL,
  reviewed ${t.bool} NOT NULL,
  last_event_id TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX alert_records_newest ON alert_records (first_at DESC, alert_id DESC);
CREATE INDEX alert_records_camera ON alert_records (camera_id, first_at DESC);
CREATE INDEX alert_records_last_at ON alert_records (last_at);
CREATE TABLE alert_snapshots (
  alert_id TEXT PRIMARY KEY,
  jpeg ${t.blob} NOT NULL
);
CREATE TABLE alert_reviews (
  id ${t.serial},
  alert_id TEXT NOT NULL,
  action TEXT NOT NULL,
  label TEXT,
  note TEXT,
  by_whom TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX alert_reviews_alert ON alert_reviews (alert_id, id);
CREATE TABLE recorder_cursors (
  name TEXT PRIMARY KEY,
  stream_id TEXT NOT NULL
);
`;

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'alert records, snapshots, reviews, recorder cursors',
    sqlite: records({ real: 'REAL', bool: 'INTEGER', blob: 'BLOB', serial: 'INTEGER PRIMARY KEY AUTOINCREMENT' }),
    postgres: records({ real: 'DOUBLE PRECISION', bool: 'BOOLEAN', blob: 'BYTEA', serial: 'BIGSERIAL PRIMARY KEY' }),
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
