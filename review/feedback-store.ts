import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { isSkywatchError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import type { BlobStore } from '../core/storage/blob-store.js';
import type { AlertRecord, ReviewVerdict } from './alert-record.js';

export const FEEDBACK_PREFIX = 'feedback/';
export const FEEDBACK_INDEX = 'feedback/index.jsonl';

/** One judged alert in the feedback data set (one line of feedback/index.jsonl). */
export interface FeedbackEntry {
  alertId: string;
  cameraId: string;
  /** The label the operator says the object is: what the crops are training examples of. */
  label: string;
  action: ReviewVerdict['action'];
  by: string;
  at: number;
  /** Crop images (PNG), keys in the store: feedback/<label>/<alertId>-<n>.png. */
  files: string[];
  /** The full snapshot, for a person to look at; never a training example. */
  snapshot?: string;
  /** What the model said, with which score and version. */
  alertLabel: string;
  score: number;
  modelVersion: string;
}

/** Crops of a tracked object by the pipeline's `cropsKey` (PNG buffers); empty when they are gone. */
export type CropSource = (cropsKey: string) => Promise<Buffer[]>;

/**
 * The label a verdict teaches: acknowledged alerts confirm the model's label, a relabel names the
 * right one, and a false alarm is `other` unless the operator said what it was.
 */
export function feedbackLabel(record: Pick<AlertRecord, 'label'>, verdict: Pick<ReviewVerdict, 'action' | 'label'>): string {
  if (verdict.action === 'acknowledge') return record.label;
  return verdict.label ?? 'other';
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');

/**
 * The feedback data set in the registry's store (a folder or gs://): every judged alert's crops with
 * the operator's label, and an index of who judged what and when. Written with conditional writes, so
 * two API processes judging at once never lose a line. A re-judged alert replaces its earlier files.
 */
export class FeedbackStore {
  constructor(readonly store: BlobStore, private readonly crops?: CropSource) {}

  /** Saves the judged alert's crops (from `cropsKey`, else cut from the snapshot around the box). */
  async save(record: AlertRecord, verdict: ReviewVerdict, snapshot: Buffer | null): Promise<FeedbackEntry> {
    const label = feedbackLabel(record, verdict);
    const id = safe(record.alertId);
    const images = await this.cropsOf(record, snapshot);
    const files: string[] = [];
    for (const [n, png] of images.entries()) {
      const key = `${FEEDBACK_PREFIX}${safe(label)}/${id}-${n}.png`;
      await this.store.write(key, png, { contentType: 'image/png' });
      files.push(key);
    }
    let snapshotKey: string | undefined;
    if (snapshot) {
      snapshotKey = `${FEEDBACK_PREFIX}snapshots/${id}.jpg`;
      await this.store.write(snapshotKey, snapshot, { contentType: 'image/jpeg' });
    }
    const entry: FeedbackEntry = {
      alertId: record.alertId, cameraId: record.cameraId, label, action: verdict.action, by: verdict.by, at: verdict.at, files,
      ...(snapshotKey ? { snapshot: snapshotKey } : {}), alertLabel: record.label, score: record.score, modelVersion: record.modelVersion,
    };
    const earlier = (await this.current()).get(record.alertId);
    await this.append(entry);
    for (const key of earlier?.files ?? []) if (!files.includes(key)) await this.store.delete(key).catch(() => {});
    return entry;
  }

  private async cropsOf(record: AlertRecord, snapshot: Buffer | null): Promise<Buffer[]> {
    if (record.cropsKey && this.crops) {
      const crops = await this.crops(record.cropsKey).catch(() => []);
      if (crops.length) return Promise.all(crops.map((c) => sharp(c).png().toBuffer()));
    }
    if (!snapshot) return [];
    const image = sharp(snapshot);
    const meta = await image.metadata();
    const width = meta.width ?? 0;
    const height = meta.height ?? 0;
    const box = record.box;
    if (!box || !width || !height) return [await image.png().toBuffer()];
    // The snapshot has the box drawn on it: cut just inside the drawn line (its stroke is width/320,
    // at least 2 px) so the training crop shows the object, not our red rectangle.
    const inset = Math.max(2, Math.round(width / 320)) + 1;
    const left = Math.max(0, Math.round(box.x) + inset);
    const top = Math.max(0, Math.round(box.y) + inset);
    const right = Math.min(width, Math.round(box.x + box.width) - inset);
    const bottom = Math.min(height, Math.round(box.y + box.height) - inset);
    if (right - left < 4 || bottom - top < 4) return [await image.png().toBuffer()];
    return [await sharp(snapshot).extract({ left, top, width: right - left, height: bottom - top }).png().toBuffer()];
  }

  private async append(entry: FeedbackEntry): Promise<void> {
    const line = `${JSON.stringify(entry)}\n`;
    for (let attempt = 0; ; attempt++) {
      const info = await this.store.stat(FEEDBACK_INDEX);
      const before = info ? await this.store.read(FEEDBACK_INDEX) : Buffer.alloc(0);
      try {
        await this.store.write(FEEDBACK_INDEX, Buffer.concat([before, Buffer.from(line)]), { contentType: 'application/x-ndjson', ifGenerationMatch: info?.generation ?? '0' });
        return;
      } catch (err) {
        // Another writer appended meanwhile: read again and retry.
        if (!isSkywatchError(err, 'STORAGE_PRECONDITION') || attempt >= 10) throw err;
      }
    }
  }

  /** Every line of the index, oldest first (a re-judged alert appears more than once). */
  async entries(): Promise<FeedbackEntry[]> {
    if (!(await this.store.stat(FEEDBACK_INDEX))) return [];
    return (await this.store.read(FEEDBACK_INDEX)).toString('utf8').split('\n').filter(Boolean).flatMap((l) => {
      try {
        return [JSON.parse(l) as FeedbackEntry];
      } catch {
        return [];
      }
    });
  }

  /** The latest verdict of each judged alert. */
  async current(): Promise<Map<string, FeedbackEntry>> {
    const out = new Map<string, FeedbackEntry>();
    for (const e of await this.entries()) out.set(e.alertId, e);
    return out;
  }

  /**
   * The current feedback as local training files (downloaded into `dir`) with their labels, and a
   * fingerprint of them (keys, labels and contents): new feedback changes the trainer's data fingerprint.
   */
  async materialize(dir: string): Promise<{ items: Array<{ path: string; label: string }>; fingerprint: string | null }> {
    const items: Array<{ path: string; label: string }> = [];
    const lines: string[] = [];
    for (const entry of [...(await this.current()).values()].sort((a, b) => (a.alertId < b.alertId ? -1 : 1))) {
      for (const key of entry.files) {
        const local = path.join(dir, ...key.split('/'));
        let info;
        try {
          info = await this.store.download(key, local);
        } catch (err) {
          if (isSkywatchError(err, 'STORAGE_NOT_FOUND')) continue;
          throw err;
        }
        items.push({ path: local, label: entry.label });
        lines.push(`${key}\0${entry.label}\0${info.size}:${info.generation}`);
      }
    }
    return { items, fingerprint: items.length ? sha256(lines.join('\n')) : null };
  }

  /** Writes the current feedback as a data set folder (<label>/<file>.png) plus index.jsonl; returns counts per label. */
  async export(dir: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    const current = [...(await this.current()).values()];
    await mkdir(dir, { recursive: true });
    for (const entry of current) {
      for (const key of entry.files) {
        const target = path.join(dir, safe(entry.label), path.basename(key));
        try {
          await this.store.download(key, target);
        } catch (err) {
          if (isSkywatchError(err, 'STORAGE_NOT_FOUND')) continue;
          throw err;
        }
        counts[entry.label] = (counts[entry.label] ?? 0) + 1;
      }
    }
    await writeFile(path.join(dir, 'index.jsonl'), current.map((e) => JSON.stringify(e)).join('\n') + (current.length ? '\n' : ''));
    return counts;
  }
}
