/**
 * Alert review database (npm run bench:review): how fast the recorder folds events (open + 4 updates
 * + close per alert, a 30 KB snapshot on the open event) and how long a filtered page of the review
 * list takes, on SQLite and on PostgreSQL (127.0.0.1:5432, database `test`, a schema of its own).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Alert } from '../queue/alert-stream.js';
import type { AlertRecordRepository } from '../review/alert-record-repository.js';
import { PostgresAlertRecords } from '../review/postgres-alert-records.js';
import { SqliteAlertRecords } from '../review/sqlite-alert-records.js';

const ALERTS = Number(process.env.ALERTS ?? 2000);
const PG_URL = 'postgres://root@127.0.0.1:5432/test';
const settings = { threshold: 0.6, uncertainBand: 0.1 };
const snapshot = Buffer.alloc(30_000, 7);

async function measure(name: string, repo: AlertRecordRepository): Promise<void> {
  await repo.migrate();
  let seq = 0;
  const t0 = performance.now();
  for (let a = 0; a < ALERTS; a++) {
    const alertId = `${1_700_000_000_000 + a * 10}-0`;
    for (const [i, status] of (['open', 'update', 'update', 'update', 'update', 'closed'] as const).entries()) {
      const at = 1_700_000_000_000 + a * 1000 + i * 100;
      const event: Alert = { id: `${1_700_000_000_000 + a * 10}-${seq++}`, alertId, cameraId: `cam${a % 8}`, label: a % 3 ? 'drone' : 'bird', score: 0.6 + (i * 0.05) + (a % 10) * 0.01, firstAt: 1_700_000_000_000 + a * 1000, lastAt: at, frames: 3 + i, box: { x: 1, y: 2, width: 30, height: 30, area: 900 }, modelVersion: 'v1', status, snapshotUrl: i === 0 ? 's' : null };
      await repo.applyEvent(event, i === 0 ? snapshot : null, settings);
    }
  }
  const foldMs = performance.now() - t0;
  const times: number[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    const page = await repo.list({ camera: `cam${i % 8}`, label: 'drone', minScore: 0.7, limit: 50, ...(i % 4 && cursor ? { cursor } : {}) });
    times.push(performance.now() - t);
    cursor = page.nextCursor ?? undefined;
  }
  times.sort((x, y) => x - y);
  const events = ALERTS * 6;
  console.log(`${name}: folded ${events} events (${ALERTS} alerts) in ${(foldMs / 1000).toFixed(1)} s = ${Math.round(events / (foldMs / 1000))} events/s; filtered page of 50 over ${ALERTS} records: p50 ${times[100].toFixed(2)} ms, p99 ${times[197].toFixed(2)} ms`);
  await repo.close();
}

await measure('SQLite', new SqliteAlertRecords(path.join(mkdtempSync(path.join(os.tmpdir(), 'sw-bench-review-')), 'skywatch.db')));
const schema = `sw_bench_${process.pid}`;
try {
  await measure('PostgreSQL', new PostgresAlertRecords({ url: PG_URL, schema }));
} catch (err) {
  console.log(`PostgreSQL skipped: ${(err as Error).message}`);
} finally {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect().then(() => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).catch(() => {});
  await c.end().catch(() => {});
}
console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
