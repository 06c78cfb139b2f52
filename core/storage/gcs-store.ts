import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Storage, type Bucket, type File } from '@google-cloud/storage';
import { SkywatchError } from '../errors.js';
import { assertKey, type BlobStore, type ObjectInfo, type WriteOptions } from './blob-store.js';

export interface GcsStoreOptions {
  bucket: string;
  prefix: string;
  /** A custom JSON API endpoint (tests run an in-process server); no credentials are used with it. */
  apiEndpoint?: string;
  projectId?: string;
}

/**
 * A gs://bucket/prefix as a blob store, through the official client. Object generations are the
 * store's generations, so `ifGenerationMatch` is GCS's own precondition: a lost race answers 412.
 */
export class GcsStore implements BlobStore {
  readonly url: string;
  private readonly bucket: Bucket;
  /** Conditional writes never retry: a retried write that had in fact landed would answer 412 and read as a lost race. */
  private readonly conditionalBucket: Bucket;
  private readonly prefix: string;

  constructor(options: GcsStoreOptions) {
    this.prefix = options.prefix ? `${options.prefix.replace(/\/+$/, '')}/` : '';
    this.url = `gs://${options.bucket}/${this.prefix}`.replace(/\/$/, '');
    const client = (autoRetry: boolean) =>
      new Storage({
        projectId: options.projectId ?? (options.apiEndpoint ? 'skywatch-local' : undefined),
        apiEndpoint: options.apiEndpoint,
        useAuthWithCustomEndpoint: false,
        retryOptions: { autoRetry, maxRetries: 3 },
      });
    this.bucket = client(true).bucket(options.bucket);
    this.conditionalBucket = client(false).bucket(options.bucket);
  }

  private file(key: string, options: WriteOptions = {}): File {
    const bucket = options.ifGenerationMatch !== undefined ? this.conditionalBucket : this.bucket;
    return bucket.file(this.prefix + assertKey(key));
  }

  private info(file: File): ObjectInfo {
    const m = file.metadata;
    return { key: file.name.slice(this.prefix.length), size: Number(m.size ?? 0), generation: String(m.generation), updated: new Date(String(m.updated ?? m.timeCreated ?? Date.now())) };
  }

  async read(key: string): Promise<Buffer> {
    try {
      const [data] = await this.file(key).download({ validation: false });
      return data;
    } catch (err) {
      throw mapError(err, key);
    }
  }

  async write(key: string, data: Buffer | string, options: WriteOptions = {}): Promise<ObjectInfo> {
    const file = this.file(key, options);
    try {
      await file.save(typeof data === 'string' ? Buffer.from(data) : data, writeSettings(options));
      return this.info(file);
    } catch (err) {
      throw mapError(err, key);
    }
  }

  async upload(localPath: string, key: string, options: WriteOptions = {}): Promise<ObjectInfo> {
    try {
      const bucket = options.ifGenerationMatch !== undefined ? this.conditionalBucket : this.bucket;
      const [file] = await bucket.upload(localPath, { destination: this.prefix + assertKey(key), ...writeSettings(options) });
      return this.info(file);
    } catch (err) {
      throw mapError(err, key);
    }
  }

  async download(key: string, localPath: string): Promise<ObjectInfo> {
    const file = this.file(key);
    await mkdir(path.dirname(localPath), { recursive: true });
    const tmp = `${localPath}.${randomBytes(4).toString('hex')}.part`;
    try {
      const [meta] = await file.getMetadata();
      await file.download({ destination: tmp, validation: false });
      await rename(tmp, localPath);
      return { key, size: Number(meta.size ?? 0), generation: String(meta.generation), updated: new Date(String(meta.updated ?? Date.now())) };
    } catch (err) {
      await rm(tmp, { force: true });
      throw mapError(err, key);
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const file = this.file(key);
    try {
      await file.getMetadata();
      return this.info(file);
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw mapError(err, key);
    }
  }

  async list(prefix = ''): Promise<ObjectInfo[]> {
    try {
      const [files] = await this.bucket.getFiles({ prefix: this.prefix + prefix, autoPaginate: true });
      return files.map((f) => this.info(f)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    } catch (err) {
      throw mapError(err, prefix);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.file(key).delete({ ignoreNotFound: true });
    } catch (err) {
      throw mapError(err, key);
    }
  }
}

/** Single-request uploads (our objects are small enough) with GCS's own generation precondition. */
function writeSettings(options: WriteOptions) {
  return {
    resumable: false,
    validation: false,
    contentType: options.contentType ?? 'application/octet-stream',
    ...(options.ifGenerationMatch !== undefined ? { preconditionOpts: { ifGenerationMatch: Number(options.ifGenerationMatch) } } : {}),
  };
}

function statusOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; response?: { status?: number } };
  return typeof e.code === 'number' ? e.code : e.response?.status;
}

function mapError(err: unknown, key: string): SkywatchError {
  const status = statusOf(err);
  if (status === 404) return new SkywatchError('STORAGE_NOT_FOUND', `object not found: ${key}`, { key });
  if (status === 412) return new SkywatchError('STORAGE_PRECONDITION', `generation precondition failed for ${key}`, { key });
  return new SkywatchError('STORAGE_IO', `GCS request for ${key} failed: ${(err as Error).message}`, { key, status }, { cause: err });
}
