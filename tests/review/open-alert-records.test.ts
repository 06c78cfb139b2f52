import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { openAlertRecords } from '../../review/open-alert-records.js';

describe('openAlertRecords', () => {
  it('opens and migrates the SQLite file under the state folder by default', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-open-review-'));
    const repo = await openAlertRecords(loadConfig({ env: { SKYWATCH_STATE_DIR: dir } }));
    expect(repo.kind).toBe('sqlite');
    expect((await repo.list({ limit: 1 })).total).toBe(0);
    await repo.close();
  });

  it('fails with DEPENDENCY_UNAVAILABLE naming the database (never its password) when it cannot be opened', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-open-review-'));
    const notDb = path.join(dir, 'not-a-db');
    writeFileSync(notDb, 'this is not a database file, it is plain text '.repeat(100));
    await expect(openAlertRecords(loadConfig({ env: { SKYWATCH_REVIEW_DB: notDb } }))).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', message: expect.stringContaining('not-a-db') });
    const pg = openAlertRecords(loadConfig({ env: { SKYWATCH_REVIEW_POSTGRES_URL: 'postgres://skywatch:s3cret@127.0.0.1:1/none' } }));
    await expect(pg).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    await expect(pg).rejects.not.toThrow(/s3cret/);
  });
});
