import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { SkywatchError } from '../../core/errors.js';
import type { ClipPrediction } from '../../inference/clip-predictor.js';
import type { GateMetrics } from './quality-gate.js';

const CLIP = /\.(mp4|webm|mov|mkv|avi)$/i;

export interface ClipOutcome {
  file: string;
  label: string;
  drone: boolean;
  firstAlertMs: number | null;
  tracks: number;
  seconds: number;
  error?: string;
}

export interface ClipLabelRow {
  label: string;
  clips: number;
  /** Clips with a drone verdict (for drone clips: detected; for the others: false alarms). */
  withDrone: number;
  share: number;
  /** Drone clips only: time from the clip's start to the first drone alert. */
  medianTimeToDetectionMs: number | null;
  meanTimeToDetectionMs: number | null;
  errors: number;
}

export interface ClipEvaluation extends GateMetrics {
  positive: string;
  rows: ClipLabelRow[];
  clips: ClipOutcome[];
  macroF1: number;
  seconds: number;
}

/** Labelled clips: every video under `<dir>/<label>/`. */
export async function listLabelledClips(dir: string): Promise<Array<{ file: string; label: string }>> {
  const out: Array<{ file: string; label: string }> = [];
  let labels: string[];
  try {
    labels = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  } catch {
    throw new SkywatchError('DATA_INVALID', `cannot read ${dir}`);
  }
  for (const label of labels) {
    for (const name of (await readdir(path.join(dir, label))).sort()) if (CLIP.test(name)) out.push({ file: path.join(dir, label, name), label });
  }
  if (out.length === 0) throw new SkywatchError('DATA_EMPTY', `no clips under ${dir}/<label>/ (mp4, webm, mov, mkv, avi)`);
  return out;
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Clip-level detection on labelled clips: each clip is "drone" when the camera pipeline would have
 * raised a drone alert on it. Per label: clips with a drone verdict and time to detection; overall,
 * the binary decision's accuracy, and recall and precision per label (for the quality gate: recall of
 * "drone" = drone clips caught; recall of another label = its clips left alone).
 */
export async function evaluateClips(clips: Array<{ file: string; label: string }>, predict: (file: string) => Promise<ClipPrediction>, options: { positive?: string; onClip?: (c: ClipOutcome, done: number, total: number) => void } = {}): Promise<ClipEvaluation> {
  const positive = options.positive ?? 'drone';
  const t0 = performance.now();
  const outcomes: ClipOutcome[] = [];
  for (const [i, c] of clips.entries()) {
    const c0 = performance.now();
    let outcome: ClipOutcome;
    try {
      const p = await predict(c.file);
      outcome = { file: c.file, label: c.label, drone: p.drone, firstAlertMs: p.firstAlertMs, tracks: p.tracks.length, seconds: (performance.now() - c0) / 1000 };
    } catch (err) {
      if ((err as SkywatchError).code === 'TRAINING_ABORTED') throw err;
      outcome = { file: c.file, label: c.label, drone: false, firstAlertMs: null, tracks: 0, seconds: (performance.now() - c0) / 1000, error: (err as Error).message };
    }
    outcomes.push(outcome);
    options.onClip?.(outcome, i + 1, clips.length);
  }
  const labels = [...new Set(clips.map((c) => c.label))].sort();
  const rows: ClipLabelRow[] = labels.map((label) => {
    const mine = outcomes.filter((o) => o.label === label);
    const hits = mine.filter((o) => o.drone);
    const times = hits.map((o) => o.firstAlertMs).filter((t): t is number => t !== null);
    return {
      label,
      clips: mine.length,
      withDrone: hits.length,
      share: mine.length ? hits.length / mine.length : 0,
      medianTimeToDetectionMs: label === positive ? median(times) : null,
      meanTimeToDetectionMs: label === positive && times.length ? times.reduce((a, b) => a + b, 0) / times.length : null,
      errors: mine.filter((o) => o.error).length,
    };
  });
  const correct = outcomes.filter((o) => o.drone === (o.label === positive)).length;
  const perLabel: ClipEvaluation['perLabel'] = {};
  for (const label of labels) {
    // One-vs-rest on the binary decision: "says drone" for the positive label, "says not drone" for the others.
    const says = (o: ClipOutcome): boolean => (label === positive ? o.drone : !o.drone);
    const truth = outcomes.filter((o) => o.label === label);
    const tp = truth.filter(says).length;
    // Precision: of the clips given this decision, the share that deserved it (for the other labels,
    // the share of "no drone" decisions that were right, whatever their label).
    const decided = outcomes.filter((o) => (label === positive ? o.drone : !o.drone));
    const right = label === positive ? tp : decided.filter((o) => o.label !== positive).length;
    perLabel[label] = { precision: decided.length ? right / decided.length : 0, recall: truth.length ? tp / truth.length : 0 };
  }
  const f1s = Object.values(perLabel).map((m) => (m.precision + m.recall > 0 ? (2 * m.precision * m.recall) / (m.precision + m.recall) : 0));
  return { positive, accuracy: outcomes.length ? correct / outcomes.length : 0, perLabel, macroF1: f1s.reduce((a, b) => a + b, 0) / Math.max(1, f1s.length), rows, clips: outcomes, seconds: (performance.now() - t0) / 1000 };
}

export function formatClipEvaluation(e: ClipEvaluation, model: string): string {
  const s = (ms: number | null): string => (ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`);
  const lines = [`model ${model}: ${e.clips.length} clips, clip-level accuracy ${(e.accuracy * 100).toFixed(1)}% (a clip is "${e.positive}" when the pipeline raised a ${e.positive} alert on it), ${(e.seconds / 60).toFixed(1)} min`, ''];
  lines.push(`${'label'.padEnd(12)}${'clips'.padStart(7)}${`with ${e.positive}`.padStart(13)}${'share'.padStart(8)}${'median TTD'.padStart(12)}${'mean TTD'.padStart(10)}${'errors'.padStart(8)}`);
  for (const r of e.rows) lines.push(`${r.label.padEnd(12)}${String(r.clips).padStart(7)}${String(r.withDrone).padStart(13)}${`${(r.share * 100).toFixed(0)}%`.padStart(8)}${s(r.medianTimeToDetectionMs).padStart(12)}${s(r.meanTimeToDetectionMs).padStart(10)}${String(r.errors).padStart(8)}`);
  lines.push('', `(${e.positive} row: clips detected; other rows: false alarms. TTD: time to detection from the clip's start.)`);
  return lines.join('\n');
}
