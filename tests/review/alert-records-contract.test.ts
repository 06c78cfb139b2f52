import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../queue/alert-stream.js';
import type { AlertRecordRepository } from '../../review/alert-record-repository.js';
import { PostgresAlertRecords } from '../../review/postgres-alert-records.js';
import { SqliteAlertRecords } from '../../review/sqlite-alert-records.js';
import { SCHEMA_VERSION } from '../../review/migrations.js';

// One contract, two databases: the embedded SQLite file and PostgreSQL (database `test`, a schema
// of its own per run, dropped afterwards).
const PG_URL = 'postgres://root@127.0.0.1:5432/test';
const schema = `sw_test_${process.pid}_${Date.now()}`;
const pgUp = await (async () => {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch (err) {
    console.warn(`PostgreSQL at ${PG_URL} is unreachable (${(err as Error).message}): its contract tests are skipped`);
    return false;
  }
})();

afterAll(async () => {
  if (!pgUp) return;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
});

const settings = { threshold: 0.6, uncertainBand: 0.1 };
let seq = 0;
const ev = (alertId: string, status: Alert['status'], over: Partial<Alert> = {}): Alert => ({
  id: `${1_700_000_000_000 + ++seq}-0`, alertId, cameraId: 'cam1', label: 'drone', score: 0.8, firstAt: 5_000, lastAt: 5_000, frames: 3,
  box: { x: 10, y: 10, width: 20, height: 20, area: 400 }, modelVersion: 'v1', status, snapshotUrl: null, ...over,
});

const backends: Array<[string, () => AlertRecordRepository, boolean]> = [
  ['SQLite', () => new SqliteAlertRecords(path.join(mkdtempSync(path.join(tmpdir(), 'sw-review-')), 'skywatch.db')), true],
  ['PostgreSQL', () => new PostgresAlertRecords({ url: PG_URL, schema }), pgUp],
];

describe.each(backends)('alert records on %s', (_name, make, available) => {
  let repo: AlertRecordRepository;
  beforeAll(async () => {
    if (!available) return;
    repo = make();
    expect(await repo.migrate()).toBe(SCHEMA_VERSION);
    // Migrating again (a second process starting) changes nothing.
    expect(await repo.migrate()).toBe(SCHEMA_VERSION);
  });
  afterAll(async () => {
    await repo?.close();
  });

  it.skipIf(!available)('folds open, updates and closing into one record with the best snapshot and its box', async () => {
    const open = ev('A1', 'open', { score: 0.7, firstAt: 5_000, lastAt: 5_000 });
    await repo.applyEvent(open, Buffer.from('jpeg-0.7'), settings);
    const best = ev('A1', 'update', { score: 0.95, lastAt: 6_000, frames: 6, box: { x: 50, y: 50, width: 10, height: 10, area: 100 }, clipUrl: 'v1/clips/A1.mp4', path: [{ x: 1, y: 1, at: 5_000 }, { x: 2, y: 2, at: 6_000 }] });
    await repo.applyEvent(best, Buffer.from('jpeg-0.95'), settings);
    await repo.applyEvent(ev('A1', 'update', { score: 0.95, lastAt: 7_000, frames: 8, box: { x: 90, y: 90, width: 10, height: 10, area: 100 } }), Buffer.from('jpeg-later'), settings);
    const closed = ev('A1', 'closed', { score: 0.95, lastAt: 8_000, frames: 9 });
    const record = await repo.applyEvent(closed, null, settings);
    expect(record).toMatchObject({ alertId: 'A1', status: 'closed', score: 0.95, firstAt: 5_000, lastAt: 8_000, frames: 9, box: { x: 50, y: 50 }, clipUrl: 'v1/clips/A1.mp4', snapshotUrl: 'v1/review/A1/snapshot.jpg', uncertain: false, review: null });
    expect(record.path).toHaveLength(2);
    expect((await repo.snapshot('A1'))?.toString()).toBe('jpeg-0.95');
    // The same event folded again (a second recorder, a replay after a crash) changes nothing.
    await repo.applyEvent({ ...best, status: 'open', score: 0.99 }, Buffer.from('replayed'), settings);
    expect(await repo.get('A1')).toEqual(record);
    expect((await repo.snapshot('A1'))?.toString()).toBe('jpeg-0.95');
  });

  it.skipIf(!available)('marks alerts near the threshold uncertain', async () => {
    const r = await repo.applyEvent(ev('U1', 'open', { score: 0.65, firstAt: 9_000, lastAt: 9_000 }), null, settings);
    expect(r.uncertain).toBe(true);
    expect(r.snapshotUrl).toBeNull();
    const told = await repo.applyEvent(ev('U2', 'open', { score: 0.95, firstAt: 9_001, lastAt: 9_001, uncertain: true }), null, settings);
    expect(told.uncertain).toBe(true);
  });

  it.skipIf(!available)('lists newest first with filters, totals and cursor paging', async () => {
    for (let i = 0; i < 7; i++) {
      await repo.applyEvent(ev(`L${i}`, 'open', { cameraId: i % 2 ? 'camB' : 'camA', label: i < 5 ? 'drone' : 'bird', score: 0.66 + i * 0.04, firstAt: 20_000 + i * 1_000, lastAt: 20_000 + i * 1_000 }), null, settings);
    }
    const page1 = await repo.list({ camera: 'camA', limit: 2 });
    expect(page1.items.map((r) => r.alertId)).toEqual(['L6', 'L4']);
    expect(page1.total).toBe(4);
    const page2 = await repo.list({ camera: 'camA', limit: 2, cursor: page1.nextCursor! });
    expect(page2.items.map((r) => r.alertId)).toEqual(['L2', 'L0']);
    expect(page2.nextCursor).toBeNull();
    expect((await repo.list({ label: 'bird', limit: 10 })).items.map((r) => r.alertId)).toEqual(['L6', 'L5']);
    expect((await repo.list({ minScore: 0.8, label: 'drone', from: 20_000, limit: 10 })).items.map((r) => r.alertId)).toEqual(['L4']);
    expect((await repo.list({ from: 21_000, to: 23_000, limit: 10 })).items.map((r) => r.alertId)).toEqual(['L3', 'L2', 'L1']);
    expect((await repo.list({ uncertain: true, limit: 10 })).items.map((r) => r.alertId)).toEqual(['L0', 'U2', 'U1']);
  });

  it.skipIf(!available)('records verdicts: the latest is the record, all are kept, reviewed filter follows', async () => {
    expect(await repo.review('nope', { action: 'acknowledge', by: 'admin:x', at: 1 })).toBeNull();
    await repo.review('L1', { action: 'false_alarm', by: 'admin:aa', at: 100 });
    const r = await repo.review('L1', { action: 'relabel', label: 'bird', note: 'a gull', by: 'admin:bb', at: 200 });
    expect(r?.review).toEqual({ action: 'relabel', label: 'bird', note: 'a gull', by: 'admin:bb', at: 200 });
    expect(await repo.reviews('L1')).toEqual([{ action: 'false_alarm', by: 'admin:aa', at: 100 }, { action: 'relabel', label: 'bird', note: 'a gull', by: 'admin:bb', at: 200 }]);
    expect((await repo.list({ reviewed: true, limit: 10 })).items.map((x) => x.alertId)).toEqual(['L1']);
    expect((await repo.list({ reviewed: false, camera: 'camB', limit: 10 })).total).toBe(2);
    // Later events of a reviewed alert keep its verdict.
    const after = await repo.applyEvent(ev('L1', 'closed', { score: 0.74, firstAt: 21_000, lastAt: 30_000 }), null, settings);
    expect(after.review?.action).toBe('relabel');
  });

  it.skipIf(!available)('keeps a recorder cursor that only moves forward', async () => {
    expect(await repo.getCursor('r')).toBeNull();
    await repo.setCursor('r', '1700000000010-0');
    await repo.setCursor('r', '999-0');
    expect(await repo.getCursor('r')).toBe('1700000000010-0');
    await repo.setCursor('r', '1700000000010-1');
    expect(await repo.getCursor('r')).toBe('1700000000010-1');
  });

  it.skipIf(!available)('deletes records last seen before a time, with their snapshots and reviews', async () => {
    const before = (await repo.list({ limit: 100 })).total;
    const deleted = await repo.deleteBefore(9_500);
    expect(deleted).toBe(3); // A1 (last 8000), U1 and U2 (9000, 9001)
    expect(await repo.get('A1')).toBeNull();
    expect(await repo.snapshot('A1')).toBeNull();
    expect((await repo.list({ limit: 100 })).total).toBe(before - 3);
    expect(await repo.get('L1')).not.toBeNull();
  });

  it.skipIf(!available)('refuses a cursor it did not give', async () => {
    await expect(repo.list({ limit: 5, cursor: 'bm90IGEgY3Vyc29y' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
