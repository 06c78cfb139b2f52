import path from 'node:path';
import type { Config } from '../core/config.js';
import type { AlertRecordRepository } from './alert-record-repository.js';
import { PostgresAlertRecords } from './postgres-alert-records.js';
import { SqliteAlertRecords } from './sqlite-alert-records.js';

/** The configured review database, migrated: PostgreSQL when `review.postgresUrl` is set, else SQLite. */
export async function openAlertRecords(config: Config): Promise<AlertRecordRepository> {
  const repo: AlertRecordRepository = config.review.postgresUrl
    ? new PostgresAlertRecords({ url: config.review.postgresUrl })
    : new SqliteAlertRecords(path.resolve(config.review.db));
  try {
    await repo.migrate();
  } catch (err) {
    await repo.close().catch(() => {});
    throw err;
  }
  return repo;
}
