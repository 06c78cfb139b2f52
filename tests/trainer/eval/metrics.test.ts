import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../../../trainer/eval/metrics.js';
import { renderReportHtml } from '../../../trainer/eval/report.js';

describe('computeMetrics', () => {
  it('is perfect on perfect predictions', () => {
    const { metrics } = computeMetrics(['bird', 'drone'], [0, 1, 1, 0], [0.9, 0.1, 0.2, 0.8, 0.3, 0.7, 0.6, 0.4]);
    expect(metrics.accuracy).toBe(1);
    expect(metrics.confusion).toEqual([[2, 0], [0, 2]]);
    expect(metrics.rocAuc).toEqual({ bird: 1, drone: 1 });
    expect(metrics.macroF1).toBe(1);
  });

  it('matches a hand-worked case with a label never predicted', () => {
    // three images of a, b, c; everything predicted "a".
    const { metrics } = computeMetrics(['a', 'b', 'c'], [0, 1, 2], [0.6, 0.3, 0.1, 0.5, 0.4, 0.1, 0.7, 0.1, 0.2]);
    expect(metrics.accuracy).toBeCloseTo(1 / 3);
    expect(metrics.perLabel.a).toEqual({ precision: 1 / 3, recall: 1, f1: 0.5, support: 1 });
    expect(metrics.perLabel.b).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    // one-vs-rest "b": positive 0.4 outranks both negatives (0.3, 0.1): AUC 1.
    expect(metrics.rocAuc.b).toBe(1);
    // "c": positive 0.2 vs negatives 0.1 and 0.1: AUC 1; "a": positive 0.6 vs 0.5, 0.7: AUC 0.5.
    expect(metrics.rocAuc.a).toBe(0.5);
  });

  it('averages F1 over the labels that occur: a model label absent from the data and never predicted does not count', () => {
    // Labels a, b, c; the data has a and b only; one b is predicted a, c is never predicted.
    const { metrics } = computeMetrics(['a', 'b', 'c'], [0, 0, 1, 1], [0.8, 0.1, 0.1, 0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.6, 0.3, 0.1]);
    expect(metrics.perLabel.a.f1).toBeCloseTo(0.8);
    expect(metrics.perLabel.b.f1).toBeCloseTo(2 / 3);
    expect(metrics.perLabel.c).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(metrics.macroF1).toBeCloseTo((0.8 + 2 / 3) / 2);
    // Predicted but absent from the data: it counts (its F1 is 0).
    const wrong = computeMetrics(['a', 'b', 'c'], [0, 1], [0.1, 0.1, 0.8, 0.1, 0.8, 0.1]);
    expect(wrong.metrics.macroF1).toBeCloseTo((0 + 1 + 0) / 3);
  });

  it('is zero everywhere when every prediction is wrong, and never NaN', () => {
    const { metrics } = computeMetrics(['bird', 'drone'], [0, 0, 1], [0.2, 0.8, 0.1, 0.9, 0.7, 0.3]);
    expect(metrics.accuracy).toBe(0);
    expect(metrics.confusion).toEqual([[0, 2], [1, 0]]);
    expect(metrics.perLabel.bird).toEqual({ precision: 0, recall: 0, f1: 0, support: 2 });
    expect(metrics.perLabel.drone).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(metrics.macroF1).toBe(0);
    expect(metrics.rocAuc).toEqual({ bird: 0, drone: 0 });
    expect(JSON.stringify(metrics)).not.toMatch(/null|NaN/);
  });

  it('gives AUC 0 (not NaN) for a label with no positives and handles an empty set', () => {
    const { metrics } = computeMetrics(['a', 'b'], [0, 0], [0.6, 0.4, 0.7, 0.3]);
    expect(metrics.rocAuc.b).toBe(0);
    expect(metrics.perLabel.b).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    const empty = computeMetrics(['a', 'b'], [], []);
    expect(empty.metrics.accuracy).toBe(0);
    expect(empty.metrics.count).toBe(0);
  });

  it('draws ROC and precision-recall points per label, one point per distinct score', () => {
    // "p" scores: positives 0.9, 0.4; negatives 0.6, 0.2.
    const { curves, metrics } = computeMetrics(['n', 'p'], [1, 0, 1, 0], [0.1, 0.9, 0.4, 0.6, 0.6, 0.4, 0.8, 0.2]);
    expect(curves.roc.p).toEqual([{ x: 0, y: 0 }, { x: 0, y: 0.5 }, { x: 0.5, y: 0.5 }, { x: 0.5, y: 1 }, { x: 1, y: 1 }]);
    expect(curves.pr.p).toEqual([{ x: 0.5, y: 1 }, { x: 0.5, y: 0.5 }, { x: 1, y: 2 / 3 }, { x: 1, y: 0.5 }]);
    // 3 of the 4 positive/negative pairs are ordered right.
    expect(metrics.rocAuc.p).toBe(0.75);
  });

  it('counts tied scores as half', () => {
    const { metrics } = computeMetrics(['n', 'p'], [1, 0], [0.5, 0.5, 0.5, 0.5]);
    expect(metrics.rocAuc.p).toBe(0.5);
  });
});

describe('renderReportHtml', () => {
  it('draws the confusion matrix and curves as pictures in one self-contained page', () => {
    const { metrics, curves } = computeMetrics(['bird', 'drone'], [0, 1, 1, 0], [0.9, 0.1, 0.6, 0.4, 0.3, 0.7, 0.6, 0.4]);
    const html = renderReportHtml({ metrics, curves, labels: ['bird', 'drone'], history: [
      { epoch: 1, loss: 0.7, accuracy: 0.5, valLoss: 0.6, valAccuracy: 0.6, learningRate: 0.001, steps: 3, seconds: 1, improved: true, time: '' },
      { epoch: 2, loss: 0.4, accuracy: 0.8, valLoss: 0.5, valAccuracy: 0.7, learningRate: 0.001, steps: 3, seconds: 1, improved: true, time: '' },
    ] });
    expect(html.match(/<svg/g)?.length).toBe(5);
    expect(html).toContain('Confusion matrix');
    expect(html).toContain('75.00%');
    expect(html).not.toMatch(/<script|src=|href="http/);
  });
});
