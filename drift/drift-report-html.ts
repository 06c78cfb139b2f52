import type { DriftResult, FeatureDrift } from './drift-compare.js';
import { isScoreFeature } from './drift-compare.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(3));

/** Baseline (grey) and current (blue or red when drifted) shares per baseline bin, side by side. */
function histogramSvg(f: FeatureDrift): string {
  const w = 320;
  const h = 150;
  const m = { l: 8, r: 8, t: 22, b: 28 };
  const bins = f.baselineShares.length;
  const max = Math.max(1e-9, ...f.baselineShares, ...f.currentShares);
  const bw = (w - m.l - m.r) / bins;
  const y = (v: number): number => h - m.b - (v / max) * (h - m.t - m.b);
  const color = f.drifted ? '#dc2626' : '#2563eb';
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="${esc(f.name)} distribution">`, `<text x="${w / 2}" y="14" text-anchor="middle" font-size="12">${esc(f.name)}: PSI ${num(f.psi)}, KS p ${f.pValue.toExponential(1)}</text>`];
  for (let i = 0; i < bins; i++) {
    const x = m.l + i * bw;
    parts.push(`<rect x="${(x + 1).toFixed(1)}" y="${y(f.baselineShares[i]).toFixed(1)}" width="${(bw / 2 - 1).toFixed(1)}" height="${(h - m.b - y(f.baselineShares[i])).toFixed(1)}" fill="#9ca3af"/>`);
    parts.push(`<rect x="${(x + bw / 2).toFixed(1)}" y="${y(f.currentShares[i]).toFixed(1)}" width="${(bw / 2 - 1).toFixed(1)}" height="${(h - m.b - y(f.currentShares[i])).toFixed(1)}" fill="${color}"/>`);
  }
  parts.push(`<line x1="${m.l}" y1="${h - m.b}" x2="${w - m.r}" y2="${h - m.b}" stroke="#555"/>`);
  const lo = f.edges[0];
  const hi = f.edges[f.edges.length - 1];
  if (lo !== undefined) parts.push(`<text x="${m.l + bw}" y="${h - m.b + 12}" font-size="10" text-anchor="middle">${num(lo)}</text><text x="${m.l + bw * (bins - 1)}" y="${h - m.b + 12}" font-size="10" text-anchor="middle">${num(hi)}</text>`);
  parts.push(`<text x="${m.l}" y="${h - 4}" font-size="10" fill="#6b7280">baseline deciles: grey = training, ${f.drifted ? 'red' : 'blue'} = current</text>`);
  parts.push('</svg>');
  return parts.join('');
}

function labelMixSvg(baseline: Record<string, number>, current: Record<string, number>): string {
  const labels = Object.keys(baseline);
  const w = 320;
  const row = 22;
  const h = 30 + labels.length * row * 2;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="predicted labels">`, `<text x="${w / 2}" y="14" text-anchor="middle" font-size="12">predicted labels (share)</text>`];
  labels.forEach((l, i) => {
    const y0 = 26 + i * row * 2;
    parts.push(`<text x="4" y="${y0 + 12}" font-size="11">${esc(l)}</text>`);
    parts.push(`<rect x="90" y="${y0}" width="${(200 * (baseline[l] ?? 0)).toFixed(1)}" height="${row / 2 + 2}" fill="#9ca3af"/><rect x="90" y="${y0 + row / 2 + 4}" width="${(200 * (current[l] ?? 0)).toFixed(1)}" height="${row / 2 + 2}" fill="#2563eb"/>`);
    parts.push(`<text x="${295}" y="${y0 + 12}" font-size="10" text-anchor="end">${((current[l] ?? 0) * 100).toFixed(0)}%</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * One self-contained page per comparison, in the manner of Evidently's data drift report: a verdict,
 * a table of every feature (means, PSI, KS), and the baseline and current distribution of each.
 */
export function driftReportHtml(input: { title: string; model: string; baselineSource: string; baselineCount: number; sections: Array<{ name: string; result: DriftResult }> }): string {
  const sections = input.sections.map(({ name, result }) => {
    const rows = result.features.map((f) => `<tr class="${f.drifted ? 'drift' : ''}"><td>${esc(f.name)}${isScoreFeature(f.name) ? ' <small>(model output)</small>' : ''}</td><td>${num(f.baselineMean)}</td><td>${num(f.currentMean)}</td><td>${num(f.psi)}</td><td>${num(f.ks)}</td><td>${f.pValue.toExponential(2)}</td><td>${f.drifted ? 'drifted' : 'ok'}</td></tr>`).join('');
    const verdict = result.drifted ? `<p class="bad">Drift detected in ${result.driftedFeatures.length} feature(s): ${esc(result.driftedFeatures.join(', '))}</p>` : '<p class="good">No drift detected</p>';
    return `<section><h2>${esc(name)} <small>(${result.count} samples)</small></h2>${verdict}
<table><tr><th>feature</th><th>baseline mean</th><th>current mean</th><th>PSI</th><th>KS</th><th>KS p-value</th><th></th></tr>${rows}</table>
<div class="charts">${result.features.map(histogramSvg).join('')}${labelMixSvg(result.predicted.baseline, result.predicted.current)}</div></section>`;
  }).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#111}table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}tr.drift td{background:#fee2e2}.bad{color:#b91c1c;font-weight:bold}.good{color:#15803d;font-weight:bold}.charts{display:flex;flex-wrap:wrap;gap:10px}section{margin-bottom:32px}</style></head>
<body><h1>${esc(input.title)}</h1><p>Model ${esc(input.model)}; baseline: ${input.baselineCount} samples from ${esc(input.baselineSource)}. PSI over the baseline's deciles (over 0.25: large shift); KS two-sample test.</p>${sections}</body></html>
`;
}
