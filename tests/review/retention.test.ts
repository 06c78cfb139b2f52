import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../queue/alert-stream.js';
import { RetentionTimer } from '../../review/retention.js';
import { SqliteAlertRecords } from '../../review/sqlite-alert-records.js';

const DAY = 24 * 3600 * 1000;
const ev = (alertId: string, lastAt: number, n: number): Alert => ({ id: `${n}-0`, alertId, cameraId: 'cam', label: 'drone', score: 0.9, firstAt: lastAt, lastAt, frames: 3, box: null, modelVersion: 'v1', status: 'closed', snapshotUrl: null });

describe('review retention', () => {
  it('a timer deletes records older than the setting, by an injected clock', async () => {
    const repo = new SqliteAlertRecords(path.join(mkdtempSync(path.join(tmpdir(), 'sw-retention-')), 'r.db'));
    await repo.migrate();
    const now = 100 * DAY;
    const settings = { threshold: 0.6, uncertainBand: 0.1 };
    await repo.applyEvent(ev('old', now - 31 * DAY, 1), Buffer.from('x'), settings);
    await repo.applyEvent(ev('recent', now - 29 * DAY, 2), null, settings);
    let clock = now;
    const timer = new RetentionTimer(repo, { days: 30, everyMs: 50, now: () => clock });
    timer.start();
    const until = async (fn: () => Promise<boolean>) => {
      const end = Date.now() + 15_000;
      while (!(await fn())) {
        if (Date.now() > end) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(async () => (await repo.get('old')) === null);
    expect(await repo.snapshot('old')).toBeNull();
    expect(await repo.get('recent')).not.toBeNull();
    // Two days later the other one is past the limit too.
    clock = now + 2 * DAY;
    await until(async () => (await repo.get('recent')) === null);
    await timer.stop();
    // 0 days keeps everything.
    await repo.applyEvent(ev('ancient', 0, 3), null, settings);
    expect(await new RetentionTimer(repo, { days: 0, now: () => clock }).runOnce()).toBe(0);
    expect(await repo.get('ancient')).not.toBeNull();
    await repo.close();
  });
});
