import { SkywatchError, isSkywatchError } from '../../core/errors.js';
import type { BlobStore } from '../../core/storage/blob-store.js';
import { runRecordSchema, type RunRecord } from './run-record.js';

const RUN_ID = /^[A-Za-z0-9._-]{1,80}$/;

/** Training runs kept in a BlobStore (the registry's folder or bucket): `runs/<id>/run.json`. */
export class RunStore {
  constructor(readonly store: BlobStore) {}

  private key(id: string, file = 'run.json'): string {
    if (!RUN_ID.test(id)) throw new SkywatchError('BAD_REQUEST', `invalid run id: ${id}`);
    return `runs/${id}/${file}`;
  }

  async save(record: RunRecord): Promise<void> {
    await this.store.write(this.key(record.id), `${JSON.stringify(runRecordSchema.parse(record), null, 2)}\n`, { contentType: 'application/json' });
  }

  /** A file kept beside the run (profile.json, the sweep's table). */
  async saveFile(id: string, name: string, data: string | Buffer): Promise<string> {
    if (!/^[A-Za-z0-9._-]+$/.test(name) || name === 'run.json') throw new SkywatchError('BAD_REQUEST', `invalid run file name: ${name}`);
    const key = this.key(id, name);
    await this.store.write(key, data);
    return key;
  }

  async get(id: string): Promise<RunRecord> {
    let raw: Buffer;
    try {
      raw = await this.store.read(this.key(id));
    } catch (err) {
      if (isSkywatchError(err, 'STORAGE_NOT_FOUND')) throw new SkywatchError('NOT_FOUND', `run not found: ${id}`);
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new SkywatchError('DATA_INVALID', `runs/${id}/run.json is not JSON`);
    }
    const parsed = runRecordSchema.safeParse(json);
    if (!parsed.success) throw new SkywatchError('DATA_INVALID', `runs/${id}/run.json is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return parsed.data;
  }

  /** Every readable run, newest first (an unreadable record is skipped, not fatal to the listing). */
  async list(): Promise<RunRecord[]> {
    const ids = (await this.store.list('runs/')).filter((o) => o.key.endsWith('/run.json')).map((o) => o.key.split('/')[1]);
    const out: RunRecord[] = [];
    for (const id of ids) {
      try {
        out.push(await this.get(id));
      } catch {
        continue;
      }
    }
    return out.sort((a, b) => (a.started < b.started ? 1 : a.started > b.started ? -1 : a.id < b.id ? 1 : -1));
  }
}
