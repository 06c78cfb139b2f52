/**
 * What the drift monitor compares, computed from one crop the model scored: input statistics
 * (brightness, contrast, sharpness, saturation, object size), the model's scores, and (when the caller
 * has it) the backbone embedding. The same function runs at training (baseline) and live, so the two
 * sides are measured identically.
 */
export interface DriftSample {
  /** Numeric features by name. */
  values: Record<string, number>;
  /** The label the model chose (its mix is compared as a categorical distribution). */
  predicted: string;
}

export interface CropPixels {
  /** Packed RGB24. */
  rgb: Uint8Array;
  width: number;
  height: number;
}

export interface SampleExtras {
  /** The object's larger side in frame pixels (a camera crop's motion box); photos use the image side. */
  objectSize?: number;
  /** Backbone embedding of the crop, when the caller computed one. */
  embedding?: Float32Array | number[];
}

/** Statistics are taken on a fixed grid of at most GRID x GRID pixels: cheap, and independent of the crop's resolution. */
const GRID = 64;

/** Two fixed unit directions for the embedding (seeded, so baseline and live project alike). */
function projection(dim: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
    norm += out[i] * out[i];
  }
  const k = 1 / Math.sqrt(norm || 1);
  for (let i = 0; i < dim; i++) out[i] *= k;
  return out;
}
const projections = new Map<number, [Float32Array, Float32Array]>();

export function computeDriftSample(crop: CropPixels, probabilities: ArrayLike<number>, labels: string[], extras: SampleExtras = {}): DriftSample {
  const { rgb, width, height } = crop;
  const gw = Math.min(GRID, width);
  const gh = Math.min(GRID, height);
  const luma = new Float32Array(gw * gh);
  let sum = 0;
  let sat = 0;
  for (let y = 0; y < gh; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / gh));
    for (let x = 0; x < gw; x++) {
      const sx = Math.min(width - 1, Math.floor(((x + 0.5) * width) / gw));
      const i = (sy * width + sx) * 3;
      const r = rgb[i];
      const g = rgb[i + 1];
      const b = rgb[i + 2];
      const l = 0.299 * r + 0.587 * g + 0.114 * b;
      luma[y * gw + x] = l;
      sum += l;
      const max = Math.max(r, g, b);
      sat += max === 0 ? 0 : (max - Math.min(r, g, b)) / max;
    }
  }
  const n = gw * gh;
  const mean = sum / n;
  let varSum = 0;
  for (let i = 0; i < n; i++) varSum += (luma[i] - mean) ** 2;
  // Sharpness: variance of the 4-neighbour Laplacian (blur flattens it, noise raises it).
  let lapSum = 0;
  let lapSq = 0;
  let lapN = 0;
  for (let y = 1; y < gh - 1; y++) {
    for (let x = 1; x < gw - 1; x++) {
      const c = y * gw + x;
      const v = 4 * luma[c] - luma[c - 1] - luma[c + 1] - luma[c - gw] - luma[c + gw];
      lapSum += v;
      lapSq += v * v;
      lapN++;
    }
  }
  const lapVar = lapN ? lapSq / lapN - (lapSum / lapN) ** 2 : 0;
  const values: Record<string, number> = {
    brightness: mean,
    contrast: Math.sqrt(varSum / n),
    // Log scale: the variance spans orders of magnitude between blurred and detailed crops.
    sharpness: Math.log1p(Math.max(0, lapVar)),
    saturation: sat / n,
    objectSize: extras.objectSize ?? Math.max(width, height),
  };
  let best = 0;
  for (let i = 0; i < labels.length; i++) {
    values[`score:${labels[i]}`] = probabilities[i] ?? 0;
    if ((probabilities[i] ?? 0) > (probabilities[best] ?? 0)) best = i;
  }
  values.confidence = probabilities[best] ?? 0;
  if (extras.embedding && extras.embedding.length > 0) {
    const e = extras.embedding;
    let p = projections.get(e.length);
    if (!p) {
      p = [projection(e.length, 17), projection(e.length, 91)];
      projections.set(e.length, p);
    }
    let norm = 0;
    let a = 0;
    let b = 0;
    for (let i = 0; i < e.length; i++) {
      norm += e[i] * e[i];
      a += e[i] * p[0][i];
      b += e[i] * p[1][i];
    }
    norm = Math.sqrt(norm);
    values['embedding:norm'] = norm;
    // Directions of the embedding, independent of its scale.
    values['embedding:dir1'] = norm > 0 ? a / norm : 0;
    values['embedding:dir2'] = norm > 0 ? b / norm : 0;
  }
  return { values, predicted: labels[best] ?? 'unknown' };
}
