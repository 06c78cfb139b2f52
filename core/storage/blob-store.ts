/**
 * One interface for every place Skywatch keeps files: a local folder or a GCS bucket prefix. Keys are
 * '/'-separated relative paths. Generations are opaque strings that change on every write; a write with
 * `ifGenerationMatch` succeeds only when the object's current generation equals it ('0' = must not
 * exist), which is how two trainers are kept from clobbering `latest.json`.
 */
export interface ObjectInfo {
  key: string;
  size: number;
  generation: string;
  updated: Date;
}

export interface WriteOptions {
  contentType?: string;
  ifGenerationMatch?: string;
}

export interface BlobStore {
  /** The URL the store was opened with (a folder path or gs://bucket/prefix), never with credentials. */
  readonly url: string;
  read(key: string): Promise<Buffer>;
  write(key: string, data: Buffer | string, options?: WriteOptions): Promise<ObjectInfo>;
  /** Streams a local file up, for model files and data sets too large to hold twice in memory. */
  upload(localPath: string, key: string, options?: WriteOptions): Promise<ObjectInfo>;
  /** Streams an object down to a local file (written to a temp name, then renamed). */
  download(key: string, localPath: string): Promise<ObjectInfo>;
  stat(key: string): Promise<ObjectInfo | null>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix?: string): Promise<ObjectInfo[]>;
  delete(key: string): Promise<void>;
}

export function assertKey(key: string): string {
  const clean = key.replace(/^\/+/, '');
  if (clean === '' || clean.split('/').some((part) => part === '..' || part === '.')) {
    throw new Error(`invalid storage key: ${JSON.stringify(key)}`);
  }
  return clean;
}
