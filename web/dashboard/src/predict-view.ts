import { api, describeError } from './api.js';
import { clear, h, pct } from './dom.js';
import type { Prediction } from './types.js';

/** Drop or pick images; each gets its label, confidence and scores per label drawn as bars. */
export class PredictView {
  readonly el = h('section', { class: 'view', 'aria-labelledby': 'predict-title' });
  private readonly input = h('input', { id: 'predict-files', type: 'file', accept: 'image/*', multiple: true });
  private readonly results = h('ul', { class: 'predictions', 'aria-live': 'polite', 'aria-label': 'Predictions' });

  constructor() {
    const zone = h('label', { class: 'dropzone', for: 'predict-files' }, 'Drop images here, or click to choose', this.input);
    zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      if (e.dataTransfer?.files.length) void this.run([...e.dataTransfer.files]);
    });
    this.input.addEventListener('change', () => { if (this.input.files?.length) void this.run([...this.input.files]); });
    this.el.append(h('h2', { id: 'predict-title' }, 'Classify images'), zone, this.results);
  }

  private async run(files: File[]): Promise<void> {
    clear(this.results);
    await Promise.all(files.map(async (file) => {
      const item = h('li', { class: 'prediction' }, h('img', { src: URL.createObjectURL(file), alt: file.name, width: 96, height: 96 }), h('div', { class: 'meta' }, h('strong', {}, file.name), h('div', { class: 'muted' }, 'classifying…')));
      this.results.append(item);
      const meta = item.querySelector('.meta') as HTMLElement;
      const form = new FormData();
      form.append('file', file, file.name);
      try {
        const p = await api<Prediction>('v1/predict', { method: 'POST', body: form });
        clear(meta);
        meta.append(
          h('strong', {}, file.name),
          h('div', { class: 'result' }, h('span', { class: 'label', 'data-label': p.label }, p.label), ' ', pct(p.confidence)),
          bars(p.scores),
          h('div', { class: 'muted' }, `model ${p.modelVersion}${typeof p.inferenceMs === 'number' ? ` · ${p.inferenceMs.toFixed(1)} ms` : ''}`),
        );
      } catch (err) {
        clear(meta);
        meta.append(h('strong', {}, file.name), h('div', { class: 'error', role: 'alert' }, describeError(err)));
      }
    }));
  }
}

function bars(scores: Record<string, number>): HTMLElement {
  const sorted = Object.entries(scores).sort((a, b) => b[1] - a[1]);
  return h('dl', { class: 'bars' }, ...sorted.flatMap(([label, score]) => [
    h('dt', {}, label),
    h('dd', {}, h('meter', { min: 0, max: 1, value: score, 'aria-label': `${label} score` }), ' ', pct(score)),
  ]));
}
