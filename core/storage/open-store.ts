import { SkywatchError } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import { LocalStore } from './local-store.js';

export interface OpenStoreOptions {
  /** GCS JSON API endpoint (tests point it at an in-process server). */
  gcsApiEndpoint?: string;
  gcsProjectId?: string;
}

/** Chooses the implementation by URL: `gs://bucket/prefix` or a folder path (file:// accepted). */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<BlobStore> {
  if (url.startsWith('gs://')) {
    const match = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])(?:\/(.*))?$/.exec(url);
    if (!match) throw new SkywatchError('STORAGE_URL_INVALID', `not a valid gs:// URL: ${url}`);
    // Loaded lazily: the GCS client is heavy and most local runs never need it.
    const { GcsStore } = await import('./gcs-store.js');
    return new GcsStore({ bucket: match[1], prefix: (match[2] ?? '').replace(/\/+$/, ''), apiEndpoint: options.gcsApiEndpoint, projectId: options.gcsProjectId });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) {
    throw new SkywatchError('STORAGE_URL_INVALID', `unsupported storage URL (use gs://bucket/prefix or a folder): ${url}`);
  }
  return new LocalStore(url.startsWith('file://') ? new URL(url).pathname : url);
}
