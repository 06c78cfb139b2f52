import type { BatchResult } from './micro-batcher.js';

/**
 * A photograph's answer when the version has a photo model. The photo model is trained on the
 * photographs alone, which show only birds and drones, so it can only split "bird or drone"; the crop
 * model also knows airplanes, helicopters and the rest. The answer keeps the crop model's labels and
 * its probabilities for everything the photo model does not know, and shares the mass the crop model
 * gives the photo model's labels between them as the photo model says. An airplane is still an
 * airplane; a bird the crop model mistook for a drone is a bird.
 */
export function combinePhotoAnswer(crop: BatchResult, photo: BatchResult): BatchResult {
  const known = new Set(photo.labels);
  let shared = 0;
  crop.labels.forEach((label, i) => {
    if (known.has(label)) shared += crop.probs[i];
  });
  const photoMass = photo.labels.reduce((sum, label, i) => (crop.labels.includes(label) ? sum + photo.probs[i] : sum), 0);
  // A photo label the crop model lacks (none today) has nowhere to go: the answer stays the crop model's.
  if (photoMass <= 0) return crop;
  const probs = Float32Array.from(crop.labels, (label, i) => {
    const j = photo.labels.indexOf(label);
    return j < 0 ? crop.probs[i] : (shared * photo.probs[j]) / photoMass;
  });
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
