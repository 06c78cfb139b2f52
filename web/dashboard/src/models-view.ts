import { api } from './api.js';
import { clear, h, pct, svg } from './dom.js';
import type { ModelEntry } from './types.js';

interface ManifestLike {
  version: string;
  labels: string[];
  created?: string;
  metrics?: { accuracy: number; macroF1?: number; confusion?: number[][]; perLabel?: Record<string, { f1: number }> };
}

/** Registry versions with their metrics, the live one, and promote / roll back (admin token). */
export class ModelsView {
  readonly el = h('section', { class: 'view', 'aria-labelledby': 'models-title' });
  private readonly body = h('div');
  private readonly status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });

  constructor() {
    this.el.append(h('h2', { id: 'models-title' }, 'Models'), this.status, this.body,
      h('div', { class: 'row' }, h('button', { type: 'button', id: 'rollback', class: 'danger', onclick: () => void this.act('v1/models/rollback', 'Rolled back') }, 'Roll back to previous')));
  }

  async start(): Promise<void> {
    await this.refresh();
  }

  private async refresh(): Promise<void> {
    clear(this.body);
    let models: ModelEntry[] = [];
    let live: string | undefined;
    try {
      const body = await api<{ models?: ModelEntry[] } | ModelEntry[]>('v1/models');
      models = Array.isArray(body) ? body : body.models ?? [];
      const info = await api<{ model?: { version?: string } | null; manifest?: { version?: string } | null }>('v1/info').catch(() => null);
      live = info?.model?.version ?? info?.manifest?.version;
    } catch (err) {
      this.body.append(h('p', { class: 'error' }, `Registry unavailable: ${(err as Error).message}`));
      return;
    }
    const table = h('table', { class: 'models' },
      h('caption', {}, `Live in the workers: ${live ?? 'none'}`),
      h('thead', {}, h('tr', {}, ...['Version', 'Created', 'Accuracy', 'Status', ''].map((t) => h('th', { scope: 'col' }, t)))),
    );
    const tbody = h('tbody');
    for (const m of models) {
      tbody.append(h('tr', { 'data-version': m.version, class: m.version === live ? 'live' : '' },
        h('th', { scope: 'row' }, h('button', { type: 'button', class: 'link', onclick: () => void this.show(m.version) }, m.version)),
        h('td', {}, m.created ? new Date(m.created).toLocaleString() : '–'),
        h('td', {}, pct(m.accuracy)),
        h('td', {}, m.isLatest ? 'latest' : m.status ?? ''),
        h('td', {}, m.isLatest ? '' : h('button', { type: 'button', class: 'ghost', onclick: () => void this.act(`v1/models/${encodeURIComponent(m.version)}/promote`, `Promoted ${m.version}`) }, 'Promote')),
      ));
    }
    table.append(tbody);
    this.body.append(models.length ? table : h('p', { class: 'muted' }, 'No model published yet.'), h('div', { id: 'model-detail' }));
  }

  private async show(version: string): Promise<void> {
    const detail = this.body.querySelector('#model-detail') as HTMLElement;
    clear(detail);
    try {
      const m = await api<ManifestLike | { manifest: ManifestLike }>(`v1/models/${encodeURIComponent(version)}`);
      const manifest = 'manifest' in m ? m.manifest : m;
      detail.append(h('h3', {}, `Model ${manifest.version}`),
        h('p', {}, `Accuracy ${pct(manifest.metrics?.accuracy)} · macro F1 ${pct(manifest.metrics?.macroF1)}`),
        manifest.metrics?.confusion ? confusion(manifest.labels, manifest.metrics.confusion) : h('p', { class: 'muted' }, 'No test metrics recorded.'),
        h('p', {}, h('a', { href: `v1/models/${encodeURIComponent(version)}/report.html`, target: '_blank', rel: 'noopener' }, 'Full training report')));
    } catch (err) {
      detail.append(h('p', { class: 'error' }, (err as Error).message));
    }
  }

  private async act(path: string, done: string): Promise<void> {
    try {
      await api(path, { method: 'POST', body: '{}' });
      this.status.textContent = done;
    } catch (err) {
      this.status.textContent = `Failed: ${(err as Error).message}`;
    }
    await this.refresh();
  }
}

/** Confusion matrix as a picture: cells shaded by row share, counts written in. */
function confusion(labels: string[], m: number[][]): SVGElement {
  const cell = 56;
  const pad = 90;
  const size = pad + cell * labels.length;
  const root = svg('svg', { viewBox: `0 0 ${size} ${size}`, width: size, height: size, role: 'img', 'aria-label': 'Confusion matrix, rows are true labels, columns predicted' });
  labels.forEach((label, i) => {
    root.append(svg('text', { x: pad - 6, y: pad + i * cell + cell / 2 + 4, 'text-anchor': 'end', class: 'axis' }, label));
    root.append(svg('text', { x: pad + i * cell + cell / 2, y: pad - 8, 'text-anchor': 'middle', class: 'axis' }, label));
    const total = m[i].reduce((a, b) => a + b, 0) || 1;
    m[i].forEach((count, j) => {
      const share = count / total;
      root.append(svg('rect', { x: pad + j * cell, y: pad + i * cell, width: cell - 2, height: cell - 2, fill: `rgba(56,189,248,${0.1 + 0.9 * share})` }));
      root.append(svg('text', { x: pad + j * cell + cell / 2, y: pad + i * cell + cell / 2 + 4, 'text-anchor': 'middle', class: share > 0.5 ? 'cell dark' : 'cell' }, String(count)));
    });
  });
  return root;
}
