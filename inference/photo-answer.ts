import type { PhotoGate } from '../core/model/manifest.js';
import type { BatchResult } from './micro-batcher.js';

/**
 * A photograph's answer when the version has a photo model. The photo model is trained on the
 * photographs alone, which show only birds and drones, so it can only split "bird or drone"; the crop
 * model also knows airplanes, helicopters and the rest, learnt from small objects on sky.
 *
 * Without a gate (versions published before it): the answer keeps the crop model's probabilities for
 * what the photo model does not know and shares the crop model's bird + drone mass as the photo model
 * says.
 *
 * With a gate (P(photograph), the photo model's last column): on a photograph, the crop model's other
 * labels stand only when together they reach `keepCropAbove` (then shared as above), else the photo
 * model answers alone; on a camera crop the crop model answers; in between, both mixed by the gate.
 * On a dev split this lifted photographs (0.971 -> 0.978) and kept crops as the crop model scores them
 * (0.617 -> 0.673, the crop model's own 0.674): docs/BENCHMARKS.md, issue 11.
 */
export function combinePhotoAnswer(crop: BatchResult, photo: BatchResult, gate?: PhotoGate): BatchResult {
  const gateAt = gate ? photo.labels.indexOf(gate.column) : -1;
  const photoLabels = gateAt < 0 ? photo.labels : photo.labels.filter((_l, j) => j !== gateAt);
  const photoProb = (label: string): number => photo.probs[photo.labels.indexOf(label)];
  let shared = 0;
  crop.labels.forEach((label, i) => {
    if (photoLabels.includes(label)) shared += crop.probs[i];
  });
  const photoMass = photoLabels.reduce((sum, label) => (crop.labels.includes(label) ? sum + photoProb(label) : sum), 0);
  // A photo label the crop model lacks (none today) has nowhere to go: the answer stays the crop model's.
  if (photoMass <= 0) return crop;
  const split = (label: string, mass: number): number => (mass * photoProb(label)) / photoMass;
  let probs: Float32Array;
  if (!gate || gateAt < 0) {
    probs = Float32Array.from(crop.labels, (label, i) => (photoLabels.includes(label) ? split(label, shared) : crop.probs[i]));
  } else {
    const g = Math.min(1, Math.max(0, photo.probs[gateAt]));
    const keepCrop = 1 - shared >= gate.keepCropAbove;
    probs = Float32Array.from(crop.labels, (label, i) => {
      const onPhoto = photoLabels.includes(label) ? split(label, keepCrop ? shared : 1) : keepCrop ? crop.probs[i] : 0;
      return g * onPhoto + (1 - g) * crop.probs[i];
    });
  }
  return {
    probs,
    labels: crop.labels,
    modelVersion: crop.modelVersion,
    // The two ran side by side: the answer took as long as the slower one.
    queueMs: Math.max(crop.queueMs, photo.queueMs),
    inferMs: Math.max(crop.inferMs, photo.inferMs),
    batchSize: Math.max(crop.batchSize, photo.batchSize),
  };
}
