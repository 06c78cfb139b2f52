import { describe, expect, it } from 'vitest';
import type { BatchResult } from '../../inference/micro-batcher.js';
import { PHOTO_GATE_COLUMN } from '../../core/model/manifest.js';
import { combinePhotoAnswer } from '../../inference/photo-answer.js';

const result = (labels: string[], probs: number[], extra: Partial<BatchResult> = {}): BatchResult => ({ labels, probs: Float32Array.from(probs), modelVersion: 'v1', queueMs: 1, inferMs: 5, batchSize: 1, ...extra });
const CROP_LABELS = ['airplane', 'bird', 'drone', 'helicopter', 'other'];

describe('combinePhotoAnswer', () => {
  it('splits the crop model\'s bird + drone mass as the photo model says and keeps the other labels', () => {
    const crop = result(CROP_LABELS, [0.1, 0.2, 0.6, 0.05, 0.05]);
    const photo = result(['bird', 'drone'], [0.9, 0.1], { inferMs: 9, batchSize: 3 });
    const answer = combinePhotoAnswer(crop, photo);
    expect(answer.labels).toEqual(CROP_LABELS);
    const p = [...answer.probs];
    expect(p[0]).toBeCloseTo(0.1, 6);
    expect(p[1]).toBeCloseTo(0.72, 6);
    expect(p[2]).toBeCloseTo(0.08, 6);
    expect(p[3]).toBeCloseTo(0.05, 6);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(answer).toMatchObject({ modelVersion: 'v1', inferMs: 9, batchSize: 3 });
  });

  it('an airplane stays an airplane: a photo model sure of "drone" cannot outweigh the crop model\'s airplane', () => {
    const answer = combinePhotoAnswer(result(CROP_LABELS, [0.8, 0.05, 0.1, 0.03, 0.02]), result(['bird', 'drone'], [0.01, 0.99]));
    const best = answer.labels[[...answer.probs].indexOf(Math.max(...answer.probs))];
    expect(best).toBe('airplane');
  });

  it('falls back to the crop model when the photo model\'s labels are not the crop model\'s', () => {
    const crop = result(CROP_LABELS, [0.2, 0.2, 0.2, 0.2, 0.2]);
    expect(combinePhotoAnswer(crop, result(['cat', 'dog'], [0.5, 0.5]))).toBe(crop);
  });

  describe('with the gate (P(photograph) as the photo model\'s last column)', () => {
    const GATE = { column: PHOTO_GATE_COLUMN, keepCropAbove: 0.9 };
    const top = (a: BatchResult) => a.labels[[...a.probs].indexOf(Math.max(...a.probs))];

    it('on a photograph, the photo model answers alone unless the crop model is sure of a label it does not know', () => {
      // A bird on grey sky that the crop model took for an airplane (0.6 < 0.9): the photo model decides.
      const bird = combinePhotoAnswer(result(CROP_LABELS, [0.6, 0.15, 0.15, 0.05, 0.05]), result(['bird', 'drone', 'photograph'], [0.8, 0.2, 1]), GATE);
      expect(top(bird)).toBe('bird');
      expect([...bird.probs].map((v) => Number(v.toFixed(6)))).toEqual([0, 0.8, 0.2, 0, 0]);
      // Sure of an airplane (0.95 >= 0.9): it stays an airplane, the rest split as the photo model says.
      const plane = combinePhotoAnswer(result(CROP_LABELS, [0.93, 0.01, 0.04, 0.01, 0.01]), result(['bird', 'drone', 'photograph'], [0.1, 0.9, 1]), GATE);
      expect(top(plane)).toBe('airplane');
      expect(plane.probs[2]).toBeCloseTo(0.045, 6);
    });

    it('on a camera crop the crop model answers; in between the two are mixed by the gate, and the answer sums to 1', () => {
      const crop = result(CROP_LABELS, [0.6, 0.3, 0.05, 0.03, 0.02]);
      const onCrop = combinePhotoAnswer(crop, result(['bird', 'drone', 'photograph'], [0.1, 0.9, 0]), GATE);
      expect([...onCrop.probs]).toEqual([...crop.probs]);
      const half = combinePhotoAnswer(crop, result(['bird', 'drone', 'photograph'], [0.1, 0.9, 0.5]), GATE);
      const p = [...half.probs];
      expect(p[0]).toBeCloseTo(0.3, 6);
      expect(p[1]).toBeCloseTo(0.5 * 0.1 + 0.5 * 0.3, 6);
      expect(p[2]).toBeCloseTo(0.5 * 0.9 + 0.5 * 0.05, 6);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      expect(half.labels).toEqual(CROP_LABELS);
    });

    it('a gate the output lacks leaves the combination without it', () => {
      const crop = result(CROP_LABELS, [0.1, 0.2, 0.6, 0.05, 0.05]);
      const photo = result(['bird', 'drone'], [0.9, 0.1]);
      expect([...combinePhotoAnswer(crop, photo, GATE).probs]).toEqual([...combinePhotoAnswer(crop, photo).probs]);
    });
  });
});
