import { centre, type TrackPoint } from './track.js';

/**
 * What a track model knows about an object: how it moves (from its boxes) and how it looks (from the
 * crop model's probabilities over its crops). Birds flap and swerve (size and heading change), airplanes
 * cross in straight lines, multirotors hover and stop. Names are stored in the manifest, so a model and
 * the code that feeds it cannot disagree on the order.
 */
export const MOTION_FEATURES = [
  'log_points',
  'duration_s',
  'speed',
  'speed_cv',
  'straightness',
  'turning',
  'hover_share',
  'size',
  'size_cv',
  'aspect',
  'aspect_sd',
  'fill',
  'fill_cv',
] as const;

export function appearanceFeatureNames(labels: readonly string[]): string[] {
  return labels.flatMap((l) => [`p_mean_${l}`, `logp_mean_${l}`, `p_max_${l}`, `win_share_${l}`]);
}

export function trackFeatureNames(labels: readonly string[]): string[] {
  return [...MOTION_FEATURES, ...appearanceFeatureNames(labels)];
}

/** Motion features of the points, in MOTION_FEATURES order; distances are shares of the frame diagonal. */
export function motionFeatures(points: readonly TrackPoint[], frameWidth: number, frameHeight: number): number[] {
  const diag = Math.hypot(frameWidth, frameHeight);
  const n = points.length;
  const duration = n > 1 ? (points[n - 1].at - points[0].at) / 1000 : 0;
  const speeds: number[] = [];
  const headings: number[] = [];
  let pathLength = 0;
  for (let i = 1; i < n; i++) {
    const a = centre(points[i - 1].box);
    const b = centre(points[i].box);
    const dt = Math.max(1, points[i].at - points[i - 1].at) / 1000;
    const d = Math.hypot(b.x - a.x, b.y - a.y) / diag;
    pathLength += d;
    speeds.push(d / dt);
    if (d > 0.002) headings.push(Math.atan2(b.y - a.y, b.x - a.x));
  }
  let turning = 0;
  for (let i = 1; i < headings.length; i++) {
    let delta = Math.abs(headings[i] - headings[i - 1]);
    if (delta > Math.PI) delta = 2 * Math.PI - delta;
    turning += delta;
  }
  const first = centre(points[0].box);
  const last = centre(points[n - 1].box);
  const net = Math.hypot(last.x - first.x, last.y - first.y) / diag;
  const sizes = points.map((p) => Math.sqrt(p.box.width * p.box.height) / diag);
  const aspects = points.map((p) => Math.log(Math.max(1, p.box.width) / Math.max(1, p.box.height)));
  const fills = points.map((p) => p.area / Math.max(1, p.box.width * p.box.height));
  return [
    Math.log(n),
    duration,
    mean(speeds),
    cv(speeds),
    pathLength > 0 ? net / pathLength : 1,
    headings.length > 1 ? turning / (headings.length - 1) : 0,
    speeds.length ? speeds.filter((s) => s < 0.01).length / speeds.length : 1,
    mean(sizes),
    cv(sizes),
    mean(aspects),
    sd(aspects),
    mean(fills),
    cv(fills),
  ];
}

/** Appearance features over the crops' probability vectors (label order of the crop model). */
export function appearanceFeatures(probabilities: readonly ArrayLike<number>[], labelCount: number): number[] {
  const out: number[] = [];
  const n = probabilities.length;
  for (let l = 0; l < labelCount; l++) {
    let sum = 0;
    let logSum = 0;
    let max = 0;
    let wins = 0;
    for (const p of probabilities) {
      const v = p[l];
      sum += v;
      logSum += Math.log(Math.max(1e-4, v));
      if (v > max) max = v;
      let best = 0;
      for (let k = 1; k < labelCount; k++) if (p[k] > p[best]) best = k;
      if (best === l) wins++;
    }
    out.push(n ? sum / n : 1 / labelCount, n ? logSum / n : Math.log(1 / labelCount), max, n ? wins / n : 0);
  }
  return out;
}

export function trackFeatures(points: readonly TrackPoint[], probabilities: readonly ArrayLike<number>[], labelCount: number, frameWidth: number, frameHeight: number): Float32Array {
  return Float32Array.from([...motionFeatures(points, frameWidth, frameHeight), ...appearanceFeatures(probabilities, labelCount)]);
}

function mean(v: readonly number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
}

function sd(v: readonly number[]): number {
  if (v.length < 2) return 0;
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
}

function cv(v: readonly number[]): number {
  const m = mean(v);
  return m > 0 ? sd(v) / m : 0;
}
