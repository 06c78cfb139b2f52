import type { Region } from '../ingest/motion.js';
import type { Alert } from '../queue/alert-stream.js';

export const REVIEW_ACTIONS = ['acknowledge', 'false_alarm', 'relabel'] as const;
export type ReviewAction = (typeof REVIEW_ACTIONS)[number];

/** An operator's judgement of an alert. */
export interface ReviewVerdict {
  action: ReviewAction;
  /** The label the operator says it was (relabel; optional for a false alarm). */
  label?: string;
  note?: string;
  /** Who judged: the token's role and a short fingerprint of it, never the token. */
  by: string;
  at: number;
}

/**
 * One alert as the review pages see it: its open, update and closing events folded together, with the
 * best snapshot (the frame of its highest score), box, path and clip where the pipeline had them.
 */
export interface AlertRecord {
  alertId: string;
  cameraId: string;
  label: string;
  score: number;
  scores?: Record<string, number>;
  trackId?: string;
  status: 'open' | 'closed';
  firstAt: number;
  lastAt: number;
  frames: number;
  box: Region | null;
  path?: Array<{ x: number; y: number; at: number }>;
  snapshotUrl: string | null;
  clipUrl: string | null;
  cropsKey?: string | null;
  modelVersion: string;
  uncertain: boolean;
  review: ReviewVerdict | null;
}

export interface FoldSettings {
  /** The alert threshold and the band above it in which an alert counts as uncertain. */
  threshold: number;
  uncertainBand: number;
}

/** Stream ids `ms-seq` in order (strings compare wrongly once the lengths differ). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map((x) => BigInt(x || '0'));
  const [bm, bs] = b.split('-').map((x) => BigInt(x || '0'));
  return am === bm ? (as === bs ? 0 : as < bs ? -1 : 1) : am < bm ? -1 : 1;
}

export function snapshotUrlOf(alertId: string): string {
  return `v1/review/${encodeURIComponent(alertId)}/snapshot.jpg`;
}

/**
 * Folds one live event into the record (null: the first event seen of this alert). `tookSnapshot`
 * says the event's snapshot became the record's (it has a snapshot and the best score so far).
 */
export function foldEvent(prev: AlertRecord | null, event: Alert, hasSnapshot: boolean, settings: FoldSettings): { record: AlertRecord; tookSnapshot: boolean } {
  const score = Math.max(prev?.score ?? 0, event.score);
  const better = !prev || event.score > prev.score || (prev.snapshotUrl === null && hasSnapshot);
  const tookSnapshot = hasSnapshot && better;
  const record: AlertRecord = {
    alertId: event.alertId,
    cameraId: event.cameraId,
    label: event.label,
    score,
    ...(event.scores ?? prev?.scores ? { scores: event.scores ?? prev?.scores } : {}),
    ...(event.trackId ?? prev?.trackId ? { trackId: event.trackId ?? prev?.trackId } : {}),
    status: event.status === 'closed' || prev?.status === 'closed' ? 'closed' : 'open',
    firstAt: Math.min(prev?.firstAt ?? event.firstAt, event.firstAt),
    lastAt: Math.max(prev?.lastAt ?? event.lastAt, event.lastAt),
    frames: Math.max(prev?.frames ?? 0, event.frames),
    // The box goes with the best snapshot, so the two always show the same moment.
    box: tookSnapshot || !prev ? event.box : prev.box,
    ...(longer(event.path, prev?.path) ? { path: longer(event.path, prev?.path) } : {}),
    snapshotUrl: tookSnapshot || prev?.snapshotUrl ? snapshotUrlOf(event.alertId) : null,
    clipUrl: event.clipUrl ?? prev?.clipUrl ?? null,
    ...(event.cropsKey ?? prev?.cropsKey ? { cropsKey: event.cropsKey ?? prev?.cropsKey } : {}),
    modelVersion: event.modelVersion || prev?.modelVersion || '',
    uncertain: event.uncertain ?? score < settings.threshold + settings.uncertainBand,
    review: prev?.review ?? null,
  };
  return { record, tookSnapshot };
}

function longer<T>(a: T[] | undefined, b: T[] | undefined): T[] | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.length >= b.length ? a : b;
}
