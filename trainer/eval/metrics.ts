import type { EvalMetrics, LabelMetrics } from '../../core/model/manifest.js';

export interface CurvePoint {
  x: number;
  y: number;
}

export interface Curves {
  /** Per label, one-vs-rest: ROC as (false positive rate, true positive rate). */
  roc: Record<string, CurvePoint[]>;
  /** Per label: precision-recall as (recall, precision). */
  pr: Record<string, CurvePoint[]>;
}

/**
 * Accuracy, per-label precision/recall/F1, macro F1, confusion matrix and one-vs-rest ROC AUC from
 * true label indices and row-major probabilities. Empty denominators give 0, never NaN.
 */
export function computeMetrics(labels: string[], yTrue: number[], probs: Float32Array | number[]): { metrics: EvalMetrics; curves: Curves } {
  const k = labels.length;
  const n = yTrue.length;
  const confusion = labels.map(() => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (probs[i * k + j] > probs[i * k + best]) best = j;
    confusion[yTrue[i]][best]++;
    if (best === yTrue[i]) correct++;
  }
  const perLabel: Record<string, LabelMetrics> = {};
  const rocAuc: Record<string, number> = {};
  const curves: Curves = { roc: {}, pr: {} };
  labels.forEach((label, c) => {
    const tp = confusion[c][c];
    const predicted = confusion.reduce((s, row) => s + row[c], 0);
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    perLabel[label] = { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, support };
    const scores = Array.from({ length: n }, (_, i) => ({ s: probs[i * k + c], pos: yTrue[i] === c }));
    const { auc, roc, pr } = rankCurves(scores);
    rocAuc[label] = auc;
    curves.roc[label] = roc;
    curves.pr[label] = pr;
  });
  // Over the labels that occur, in the truth or in the predictions: a model label the data set does not
  // have (a photo set of birds and drones scored by a model that also knows airplanes) and that is never
  // predicted says nothing of the model, and would pull the mean down by its zero.
  const occurring = labels.filter((_l, c) => confusion[c].some((v) => v > 0) || confusion.some((row) => row[c] > 0));
  const macroF1 = occurring.length ? occurring.reduce((s, l) => s + perLabel[l].f1, 0) / occurring.length : 0;
  return { metrics: { accuracy: n ? correct / n : 0, perLabel, macroF1, confusion, rocAuc, count: n }, curves };
}

/** ROC (exact AUC, tied scores handled as one step) and PR points, walking scores high to low. */
function rankCurves(scores: Array<{ s: number; pos: boolean }>): { auc: number; roc: CurvePoint[]; pr: CurvePoint[] } {
  const P = scores.filter((x) => x.pos).length;
  const N = scores.length - P;
  const sorted = [...scores].sort((a, b) => b.s - a.s);
  const roc: CurvePoint[] = [{ x: 0, y: 0 }];
  const pr: CurvePoint[] = [];
  let tp = 0;
  let fp = 0;
  let auc = 0;
  for (let i = 0; i < sorted.length; ) {
    let dtp = 0;
    let dfp = 0;
    const s = sorted[i].s;
    while (i < sorted.length && sorted[i].s === s) {
      if (sorted[i].pos) dtp++;
      else dfp++;
      i++;
    }
    // Trapezoid over a tied block counts each tied positive/negative pair as one half.
    if (P && N) auc += (dfp / N) * ((tp + dtp / 2) / P);
    tp += dtp;
    fp += dfp;
    roc.push({ x: N ? fp / N : 0, y: P ? tp / P : 0 });
    pr.push({ x: P ? tp / P : 0, y: tp + fp ? tp / (tp + fp) : 1 });
  }
  return { auc: P && N ? auc : 0, roc, pr };
}
