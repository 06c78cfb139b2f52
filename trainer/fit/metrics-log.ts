import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { EpochRecord } from './epoch-record.js';

/** Appends one JSON line per epoch, so a run that dies still leaves every finished epoch on disk. */
export function metricsLog(file: string): (record: EpochRecord) => Promise<void> {
  let ready: Promise<unknown> | undefined;
  return async (record) => {
    ready ??= mkdir(path.dirname(file), { recursive: true });
    await ready;
    await appendFile(file, `${JSON.stringify(record)}\n`);
  };
}
