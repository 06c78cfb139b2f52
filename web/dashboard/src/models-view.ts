import { api, describeError, withToken } from './api.js';
import { confirmAction } from './confirm.js';
import { notice } from './notices.js';
import { clear, h, pct, svg } from './dom.js';
import type { ModelEntry } from './types.js';

interface ManifestLike {
  version: string;
  labels: string[];
  created?: string;
  metrics?: { accuracy: number; macroF1?: number; confusion?: number[][]; perLabel?: Record<string, { f1: number }> };
}

/** Registry versions with their metrics, the live one, and promote / roll back (admin token, confirmed). */
export class ModelsView {
  readonly el = h('section', { class: 'view', 'aria-labelledby': 'models-title' });
  private readonly body = h('div');
  private readonly status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  private models: ModelEntry[] = [];
  private live: string | undefined;

  constructor() {
    this.el.append(h('h2', { id: 'models-title' }, 'Models'), this.status, this.body,
      h('div', { class: 'row admin-only' }, h('button', { type: 'button', id: 'rollback', class: 'danger', onclick: () => void this.rollback() }, 'Roll back to previous')));
  }

  private describe(version: string | undefined): string {
    const m = this.models.find((x) => x.version === version);
    return m ? `${m.version} (accuracy ${pct(m.accuracy ?? undefined)})` : version ?? 'none';
  }

  private async promote(version: string): Promise<void> {
    const ok = await confirmAction('Promote model', `Make ${this.describe(version)} the live model? It replaces ${this.describe(this.live)} in every worker.`, `Promote ${version}`);
    if (ok) await this.act(`v1/models/${encodeURIComponent(version)}/promote`, `Promoted ${version}`);
  }

  private async rollback(): Promise<void> {
    const previous = this.models.filter((m) => m.status === 'previous');
    const target = previous.length === 1 ? ` back to ${this.describe(previous[0].version)}` : ' back to the version it replaced';
    const ok = await confirmAction('Roll back model', `Replace the live model ${this.describe(this.live)}${target}?`, 'Roll back');
    if (ok) await this.act('v1/models/rollback', 'Rolled back');
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
      this.models = models;
      this.live = live;
    } catch (err) {
      this.body.append(h('p', { class: 'error' }, `Registry unavailable: ${describeError(err)}`));
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
        h('td', {}, pct(m.accuracy ?? undefined)),
        h('td', {}, m.isLatest ? 'latest' : m.status ?? ''),
        h('td', {}, m.isLatest ? '' : h('button', { type: 'button', class: 'ghost admin-only', onclick: () => void this.promote(m.version) }, 'Promote')),
      ));
    }
    table.append(tbody);
    this.body.append(models.length ? h('div', { class: 'table-wrap' }, table) : h('p', { class: 'muted' }, 'No model published yet.'), h('div', { id: 'model-detail' }));
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
        // A link cannot send the Authorization header: the token rides in the URL like images do.
        h('p', {}, h('a', { href: withToken(`v1/models/${encodeURIComponent(version)}/report.html`), target: '_blank', rel: 'noopener', class: 'report-link' }, `Full training report of ${manifest.version}`)));
    } catch (err) {
      detail.append(h('p', { class: 'error' }, describeError(err)));
    }
  }

  private async act(path: string, done: string): Promise<void> {
    try {
      await api(path, { method: 'POST', body: '{}' });
      this.status.textContent = done;
      notice(done, 'ok');
    } catch (err) {
      this.status.textContent = `Failed: ${describeError(err)}`;
      notice(`${done.split(' ')[0]} failed: ${describeError(err)}`);
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
