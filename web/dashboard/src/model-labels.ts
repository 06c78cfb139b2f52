import { api } from './api.js';

const FALLBACK = ['drone', 'bird', 'airplane', 'helicopter'];
let cached: Promise<string[]> | null = null;

/** The labels of the model being served (GET /v1/info), the ones the server accepts; a default list when unknown. */
export function modelLabels(): Promise<string[]> {
  cached ??= api<{ manifest?: { labels?: string[] } | null }>('v1/info')
    .then((info) => (info.manifest?.labels?.length ? info.manifest.labels : FALLBACK))
    .catch(() => {
      cached = null;
      return FALLBACK;
    });
  return cached;
}
