import path from 'node:path';
import type { Config } from '../core/config.js';
import { SkywatchError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import type { AlertRecordRepository } from './alert-record-repository.js';

/** The configured review database, migrated: PostgreSQL when `review.postgresUrl` is set, else SQLite. */
export async function openAlertRecords(config: Config): Promise<AlertRecordRepository> {
  let repo: AlertRecordRepository | null = null;
  try {
    // Drivers load lazily: a process uses one of them, and loading costs start-up time.
    if (config.review.postgresUrl) {
      const { PostgresAlertRecords } = await import('./postgres-alert-records.js');
      repo = new PostgresAlertRecords({ url: config.review.postgresUrl });
    } else {
      const { SqliteAlertRecords } = await import('./sqlite-alert-records.js');
      repo = new SqliteAlertRecords(path.resolve(config.review.db));
    }
    await repo.migrate();
  } catch (err) {
    await repo?.close().catch(() => {});
    const where = config.review.postgresUrl ? redactUrl(config.review.postgresUrl) : path.resolve(config.review.db);
    throw new SkywatchError('DEPENDENCY_UNAVAILABLE', `the review database ${where} cannot be opened: ${(err as Error).message}`, { database: where }, { cause: err });
  }
  return repo;
}
