import type { Alert } from './types.js';

/** Redis stream ids are `ms-seq`; compare numerically, not as strings. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am !== bm ? am - bm : (as ?? 0) - (bs ?? 0);
}

/**
 * Folds one event of an alert into what is known of it, in whatever order events arrive (history is
 * newest first, the socket oldest first, a reconnect may replay): the newer event (larger stream id)
 * wins, and a known snapshot or clip is never replaced by null (a closing event may carry none).
 */
export function mergeAlert(known: Alert | undefined, incoming: Alert): Alert {
  if (!known) return incoming;
  const newer = compareIds(incoming.id, known.id) >= 0 ? incoming : known;
  const older = newer === incoming ? known : incoming;
  return {
    ...older,
    ...newer,
    snapshotUrl: newer.snapshotUrl ?? older.snapshotUrl ?? null,
    clipUrl: newer.clipUrl ?? older.clipUrl ?? null,
    path: newer.path ?? older.path,
    cameraName: newer.cameraName ?? older.cameraName,
  };
}
