import type { EvalMetrics, ModelManifest } from '../../core/model/manifest.js';
import type { EpochRecord } from '../fit/epoch-record.js';
import type { Curves } from './metrics.js';
import { confusionSvg, lineChartSvg } from './svg-charts.js';

export interface ReportInput {
  title?: string;
  manifest?: ModelManifest;
  metrics: EvalMetrics;
  labels: string[];
  curves?: Curves;
  history?: EpochRecord[];
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** One self-contained HTML page: metrics table, confusion matrix, ROC/PR and training curves as SVG. */
export function renderReportHtml(input: ReportInput): string {
  const { metrics, labels, manifest, curves, history } = input;
  const title = input.title ?? (manifest ? `Skywatch model ${manifest.version}` : 'Skywatch evaluation');
  const rows = labels.map((l) => {
    const m = metrics.perLabel[l];
    return `<tr><th scope="row">${esc(l)}</th><td>${pct(m?.precision ?? 0)}</td><td>${pct(m?.recall ?? 0)}</td><td>${pct(m?.f1 ?? 0)}</td><td>${(metrics.rocAuc[l] ?? 0).toFixed(4)}</td><td>${m?.support ?? 0}</td></tr>`;
  }).join('');
  const charts: string[] = [confusionSvg(labels, metrics.confusion)];
  if (curves) {
    charts.push(lineChartSvg('ROC (one vs rest)', curves.roc, { x: 'false positive rate', y: 'true positive rate', xMax: 1, yMax: 1, diagonal: true }));
    charts.push(lineChartSvg('Precision-recall', curves.pr, { x: 'recall', y: 'precision', xMax: 1, yMax: 1 }));
  }
  if (history?.length) {
    const pts = (f: (r: EpochRecord) => number | undefined) => history.filter((r) => f(r) !== undefined).map((r) => ({ x: r.epoch, y: f(r)! }));
    charts.push(lineChartSvg('Loss per epoch', { train: pts((r) => r.loss), validation: pts((r) => r.valLoss) }, { x: 'epoch', y: 'loss' }));
    charts.push(lineChartSvg('Accuracy per epoch', { train: pts((r) => r.accuracy), validation: pts((r) => r.valAccuracy) }, { x: 'epoch', y: 'accuracy', yMax: 1 }));
  }
  const facts = manifest
    ? `<dl><dt>Version</dt><dd>${esc(manifest.version)}</dd><dt>Created</dt><dd>${esc(manifest.created)}</dd><dt>Input</dt><dd>${manifest.input.width}x${manifest.input.height} ${manifest.input.channelOrder}</dd>${manifest.dataset ? `<dt>Data set</dt><dd><code>${esc(manifest.dataset.fingerprint.slice(0, 16))}</code></dd>` : ''}${manifest.parent ? `<dt>Parent</dt><dd>${esc(manifest.parent)}</dd>` : ''}</dl>`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>
<style>body{font:14px/1.5 system-ui,sans-serif;margin:24px;color:#111;max-width:1100px}table{border-collapse:collapse}th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}th:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:18px}dl{display:grid;grid-template-columns:auto 1fr;gap:2px 12px}dd{margin:0}</style></head>
<body><h1>${esc(title)}</h1>${facts}
<p><strong>Accuracy ${pct(metrics.accuracy)}</strong> · macro F1 ${pct(metrics.macroF1)} · ${metrics.count} images</p>
<table><thead><tr><th scope="col">label</th><th scope="col">precision</th><th scope="col">recall</th><th scope="col">F1</th><th scope="col">ROC AUC</th><th scope="col">support</th></tr></thead><tbody>${rows}</tbody></table>
<div class="charts">${charts.join('\n')}</div></body></html>`;
}
