import type { CurvePoint } from './metrics.js';

/** Small self-contained SVG pictures for the report: no scripts, no external assets. */
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

export function confusionSvg(labels: string[], confusion: number[][]): string {
  const cell = 64;
  const pad = 110;
  const size = pad + cell * labels.length + 10;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size + 20}" role="img" aria-label="Confusion matrix">`];
  parts.push(`<text x="${pad + (cell * labels.length) / 2}" y="14" text-anchor="middle" font-size="12">predicted</text>`);
  parts.push(`<text x="12" y="${pad + (cell * labels.length) / 2}" font-size="12" transform="rotate(-90 12 ${pad + (cell * labels.length) / 2})" text-anchor="middle">true</text>`);
  labels.forEach((label, i) => {
    parts.push(`<text x="${pad - 8}" y="${pad + i * cell + cell / 2 + 4}" text-anchor="end" font-size="12">${esc(label)}</text>`);
    parts.push(`<text x="${pad + i * cell + cell / 2}" y="${pad - 10}" text-anchor="middle" font-size="12">${esc(label)}</text>`);
    const total = confusion[i].reduce((a, b) => a + b, 0) || 1;
    confusion[i].forEach((count, j) => {
      const share = count / total;
      const fill = i === j ? `rgba(37,99,235,${0.12 + 0.88 * share})` : `rgba(220,38,38,${0.08 + 0.92 * share})`;
      parts.push(`<rect x="${pad + j * cell}" y="${pad + i * cell}" width="${cell - 2}" height="${cell - 2}" fill="${fill}"/>`);
      parts.push(`<text x="${pad + j * cell + cell / 2}" y="${pad + i * cell + cell / 2 + 5}" text-anchor="middle" font-size="14" fill="${share > 0.55 ? '#fff' : '#111'}">${count}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

export function lineChartSvg(title: string, series: Record<string, CurvePoint[]>, axes: { x: string; y: string; xMax?: number; yMax?: number; diagonal?: boolean }): string {
  const w = 360;
  const h = 280;
  const m = { l: 46, r: 12, t: 24, b: 40 };
  const all = Object.values(series).flat();
  const xMax = axes.xMax ?? Math.max(1e-9, ...all.map((p) => p.x));
  const yMax = axes.yMax ?? Math.max(1e-9, ...all.map((p) => p.y));
  const X = (x: number) => m.l + (x / xMax) * (w - m.l - m.r);
  const Y = (y: number) => h - m.b - (y / yMax) * (h - m.t - m.b);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="${esc(title)}">`, `<text x="${w / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`];
  parts.push(`<line x1="${m.l}" y1="${h - m.b}" x2="${w - m.r}" y2="${h - m.b}" stroke="#555"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${h - m.b}" stroke="#555"/>`);
  for (const t of [0, 0.5, 1]) {
    parts.push(`<text x="${X(t * xMax)}" y="${h - m.b + 14}" text-anchor="middle" font-size="10">${+(t * xMax).toFixed(2)}</text>`);
    parts.push(`<text x="${m.l - 6}" y="${Y(t * yMax) + 3}" text-anchor="end" font-size="10">${+(t * yMax).toFixed(2)}</text>`);
  }
  parts.push(`<text x="${w / 2}" y="${h - 6}" text-anchor="middle" font-size="11">${esc(axes.x)}</text>`);
  parts.push(`<text x="12" y="${h / 2}" font-size="11" transform="rotate(-90 12 ${h / 2})" text-anchor="middle">${esc(axes.y)}</text>`);
  if (axes.diagonal) parts.push(`<line x1="${X(0)}" y1="${Y(0)}" x2="${X(xMax)}" y2="${Y(yMax)}" stroke="#aaa" stroke-dasharray="4 4"/>`);
  Object.entries(series).forEach(([name, points], i) => {
    const color = PALETTE[i % PALETTE.length];
    if (points.length) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ')}"/>`);
    parts.push(`<rect x="${w - m.r - 100}" y="${m.t + 4 + i * 14}" width="10" height="10" fill="${color}"/><text x="${w - m.r - 86}" y="${m.t + 13 + i * 14}" font-size="11">${esc(name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
