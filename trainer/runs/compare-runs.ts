import { lineChartSvg } from '../eval/svg-charts.js';
import { epochPart, epochsByPart, type RunRecord } from './run-record.js';

/** The parameters and metrics that differ between runs come first: that is what a comparison is for. */
export interface RunComparison {
  runs: string[];
  params: Array<{ name: string; values: unknown[]; differs: boolean }>;
  metrics: Array<{ name: string; values: Array<number | null>; best: number | null }>;
}

const FLAT_METRICS = ['accuracy', 'macroF1'] as const;

function finalMetrics(run: RunRecord): Record<string, number> {
  const out: Record<string, number> = {};
  const m = run.metrics ?? {};
  for (const k of FLAT_METRICS) if (typeof m[k] === 'number') out[k] = m[k];
  const perLabel = m.perLabel as Record<string, { recall?: number; precision?: number }> | undefined;
  for (const [label, v] of Object.entries(perLabel ?? {})) {
    if (typeof v.recall === 'number') out[`recall[${label}]`] = v.recall;
    if (typeof v.precision === 'number') out[`precision[${label}]`] = v.precision;
  }
  // Track runs: the share of held-out clips with an alert, per label.
  for (const name of ['clipRecall', 'clipFalseAlarm'] as const) {
    for (const [label, v] of Object.entries((m[name] ?? {}) as Record<string, unknown>)) if (typeof v === 'number') out[`${name}[${label}]`] = v;
  }
  if (typeof m.medianAlertMs === 'number') out.medianAlertMs = m.medianAlertMs;
  if (run.durationSeconds !== null) out.durationSeconds = run.durationSeconds;
  const parts = epochsByPart(run);
  if (parts.size <= 1) {
    out.epochsRun = run.epochs.length;
    const last = run.epochs.at(-1);
    if (last?.valLoss !== undefined) out.lastValLoss = last.valLoss;
  } else {
    // A run of several fits (track): each final model's epochs and last training loss.
    for (const [part, epochs] of parts) {
      out[`epochsRun[${part}]`] = epochs.length;
      out[`lastLoss[${part}]`] = epochs.at(-1)!.loss;
    }
  }
  return out;
}

/** Lower is better for time, loss and false alarms; higher for everything else. */
function lowerIsBetter(name: string): boolean {
  return name === 'durationSeconds' || name === 'medianAlertMs' || name.startsWith('clipFalseAlarm') || name.toLowerCase().includes('loss');
}

export function compareRuns(runs: RunRecord[]): RunComparison {
  const paramNames = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const params = paramNames.map((name) => {
    const values = runs.map((r) => r.params[name] ?? null);
    const differs = new Set(values.map((v) => JSON.stringify(v))).size > 1;
    return { name, values, differs };
  }).sort((a, b) => Number(b.differs) - Number(a.differs));
  const finals = runs.map(finalMetrics);
  const metricNames = [...new Set(finals.flatMap((f) => Object.keys(f)))];
  const metrics = metricNames.map((name) => {
    const values = finals.map((f) => f[name] ?? null);
    const present = values.filter((v): v is number => v !== null);
    const lower = lowerIsBetter(name);
    const best = present.length ? (lower ? Math.min(...present) : Math.max(...present)) : null;
    return { name, values, best };
  });
  return { runs: runs.map((r) => r.id), params, metrics };
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const show = (v: unknown): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v === null || v === undefined ? '–' : typeof v === 'string' ? v : JSON.stringify(v));

/** Plain-text table for a terminal. */
export function comparisonTable(c: RunComparison): string {
  const w0 = Math.max(12, ...c.params.map((p) => p.name.length), ...c.metrics.map((m) => m.name.length)) + 2;
  const w = Math.max(12, ...c.runs.map((r) => r.length)) + 2;
  const row = (name: string, cells: string[]): string => `${name.padEnd(w0)}${cells.map((x) => x.slice(0, w - 1).padStart(w)).join('')}`;
  const lines = [row('run', c.runs), '', 'parameters (differing first)'];
  for (const p of c.params) lines.push(row(`${p.differs ? '*' : ' '} ${p.name}`, p.values.map(show)));
  lines.push('', 'metrics');
  for (const m of c.metrics) lines.push(row(`  ${m.name}`, m.values.map((v) => (v === null ? '–' : `${v === m.best && c.runs.length > 1 ? '>' : ''}${show(v)}`))));
  return lines.join('\n');
}

/** One self-contained HTML page (inline SVG, no scripts): tables plus loss and accuracy curves per run. */
export function comparisonHtml(runs: RunRecord[]): string {
  const c = compareRuns(runs);
  // One series per run and part (a track run fits several models: `crop fold 1/3`, `track`, `crop`).
  const curve = (pick: (e: RunRecord['epochs'][number]) => number | undefined) => {
    const series: Record<string, Array<{ x: number; y: number }>> = {};
    for (const r of runs) {
      for (const e of r.epochs) {
        const y = pick(e);
        if (y === undefined) continue;
        const name = e.part ? `${r.id.slice(-12)} ${epochPart(e)}` : r.id.slice(-12);
        (series[name] ??= []).push({ x: e.epoch, y });
      }
    }
    return series;
  };
  const charts = [
    lineChartSvg('training loss', curve((e) => e.loss), { x: 'epoch', y: 'loss' }),
    lineChartSvg('training accuracy', curve((e) => e.accuracy), { x: 'epoch', y: 'accuracy', yMax: 1 }),
    lineChartSvg('validation loss', curve((e) => e.valLoss), { x: 'epoch', y: 'val loss' }),
    lineChartSvg('validation accuracy', curve((e) => e.valAccuracy), { x: 'epoch', y: 'val accuracy', yMax: 1 }),
  ];
  const head = `<tr><th></th>${c.runs.map((r) => `<th>${esc(r)}</th>`).join('')}</tr>`;
  const params = c.params.map((p) => `<tr class="${p.differs ? 'diff' : ''}"><td>${esc(p.name)}</td>${p.values.map((v) => `<td>${esc(show(v))}</td>`).join('')}</tr>`).join('');
  const metrics = c.metrics.map((m) => `<tr><td>${esc(m.name)}</td>${m.values.map((v) => `<td class="${v !== null && v === m.best && c.runs.length > 1 ? 'best' : ''}">${esc(v === null ? '–' : show(v))}</td>`).join('')}</tr>`).join('');
  const meta = runs.map((r) => `<tr><td>${esc(r.id)}</td><td>${esc(r.kind)}</td><td>${esc(r.status)}</td><td>${esc(r.started)}</td><td>${esc(r.code.commit?.slice(0, 10) ?? '–')}</td><td>${esc(r.data.fingerprint?.slice(0, 12) ?? '–')}</td><td>${esc(`${r.machine.hostname}, ${r.machine.cpus} CPUs, load ${r.machine.loadAverage.join(' ')}`)}</td><td>${esc(r.sweep ? `${r.sweep.id} #${r.sweep.trial}` : '–')}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Skywatch runs: ${esc(c.runs.join(', '))}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#111}table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}tr.diff td{background:#fff7e6}td.best{font-weight:bold;background:#e8f5e9}.charts{display:flex;flex-wrap:wrap;gap:12px}</style></head>
<body><h1>Run comparison</h1>
<h2>Runs</h2><table><tr><th>run</th><th>kind</th><th>status</th><th>started</th><th>commit</th><th>data</th><th>machine</th><th>sweep</th></tr>${meta}</table>
<h2>Curves</h2><div class="charts">${charts.join('')}</div>
<h2>Final metrics</h2><table>${head}${metrics}</table>
<h2>Parameters</h2><p>Highlighted rows differ between runs.</p><table>${head}${params}</table>
</body></html>
`;
}
