/**
 * The two tests the drift monitor offers, as Evidently uses them: the Population Stability Index over
 * the baseline's quantile bins, and the two-sample Kolmogorov-Smirnov statistic with its asymptotic
 * p-value.
 */

const EPS = 1e-4;

/** Bin edges from the baseline's quantiles (deduplicated, so a constant feature gets one bin). */
export function quantileEdges(sorted: number[], bins: number): number[] {
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const v = sorted[Math.min(sorted.length - 1, Math.floor((i * sorted.length) / bins))];
    if (edges.length === 0 || v > edges[edges.length - 1]) edges.push(v);
  }
  return edges;
}

/** Share of values per bin: bin i holds values < edges[i] (and >= edges[i-1]); the last bin is open. */
export function binShares(values: number[], edges: number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) {
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v < edges[mid]) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]++;
  }
  const n = values.length || 1;
  return counts.map((c) => c / n);
}

/** PSI = sum (a - e) ln(a / e); under 0.1 stable, 0.1 to 0.25 a shift, above 0.25 a large shift. */
export function psi(expected: number[], actual: number[]): number {
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(EPS, expected[i]);
    const a = Math.max(EPS, actual[i] ?? 0);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

/**
 * KS statistic between a reference given by its quantiles (sorted, evenly spaced in probability) and
 * a sample; p-value from the Kolmogorov distribution with n_eff = n*m/(n+m).
 */
export function ks(referenceQuantiles: number[], referenceCount: number, sample: number[]): { statistic: number; pValue: number } {
  if (referenceQuantiles.length === 0 || sample.length === 0) return { statistic: 0, pValue: 1 };
  const a = referenceQuantiles;
  const b = [...sample].sort((x, y) => x - y);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length && j < b.length) {
    const v = Math.min(a[i], b[j]);
    while (i < a.length && a[i] <= v) i++;
    while (j < b.length && b[j] <= v) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  const n = referenceCount;
  const m = b.length;
  const ne = (n * m) / (n + m);
  const lambda = (Math.sqrt(ne) + 0.12 + 0.11 / Math.sqrt(ne)) * d;
  return { statistic: d, pValue: kolmogorovQ(lambda) };
}

/** Q_KS(lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2). */
function kolmogorovQ(lambda: number): number {
  if (lambda < 1e-3) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = 2 * (k % 2 ? 1 : -1) * Math.exp(-2 * k * k * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-10) break;
  }
  return Math.min(1, Math.max(0, sum));
}

/** `count` values evenly spaced in probability from a sorted array (the reference kept for KS). */
export function quantiles(sorted: number[], count: number): number[] {
  if (sorted.length <= count) return [...sorted];
  return Array.from({ length: count }, (_, i) => sorted[Math.min(sorted.length - 1, Math.floor(((i + 0.5) * sorted.length) / count))]);
}
