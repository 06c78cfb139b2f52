import path from 'node:path';
import type { Config } from '../core/config.js';
import { SkywatchError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import type { AlertRecordRepository } from './alert-record-repository.js';
import { PostgresAlertRecords } from './postgres-alert-records.js';
import { SqliteAlertRecords } from './sqlite-alert-records.js';

/** The configured review database, migrated: PostgreSQL when `review.postgresUrl` is set, else SQLite. */
export async function openAlertRecords(config: Config): Promise<AlertRecordRepository> {
  let repo: AlertRecordRepository | null = null;
  try {
    repo = config.review.postgresUrl ? new PostgresAlertRecords({ url: config.review.postgresUrl }) : new SqliteAlertRecords(path.resolve(config.review.db));
    await repo.migrate();
  } catch (err) {
    await repo?.close().catch(() => {});
    const where = config.review.postgresUrl ? redactUrl(config.review.postgresUrl) : path.resolve(config.review.db);
    throw new SkywatchError('DEPENDENCY_UNAVAILABLE', `the review database ${where} cannot be opened: ${(err as Error).message}`, { database: where }, { cause: err });
  }
  return repo;
}
