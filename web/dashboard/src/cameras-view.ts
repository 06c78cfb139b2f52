import { api, ApiError, withToken } from './api.js';
import { clear, h } from './dom.js';
import type { Camera } from './types.js';

const REFRESH_MS = 2000;
const FIELDS = ['name', 'url', 'fps'] as const;

/** Camera grid with live snapshots and status, and a form to add or edit a camera. */
export class CamerasView {
  readonly el = h('section', { class: 'view', 'aria-labelledby': 'cameras-title' });
  private readonly grid = h('ul', { class: 'cameras', 'aria-label': 'Cameras' });
  private readonly form = h('form', { class: 'camera-form', novalidate: true, 'aria-labelledby': 'camera-form-title' });
  private readonly formTitle = h('h3', { id: 'camera-form-title' }, 'Add a camera');
  private readonly inputs = {
    name: h('input', { id: 'cam-name', name: 'name', required: true, autocomplete: 'off' }),
    url: h('input', { id: 'cam-url', name: 'url', required: true, autocomplete: 'off', placeholder: 'rtsp://host:554/stream' }),
    fps: h('input', { id: 'cam-fps', name: 'fps', type: 'number', min: 0.1, max: 60, step: 0.1, value: 5 }),
    enabled: h('input', { id: 'cam-enabled', name: 'enabled', type: 'checkbox', checked: true }),
  };
  private readonly errors = Object.fromEntries(FIELDS.map((f) => [f, h('span', { class: 'error', id: `cam-${f}-error`, 'aria-live': 'polite' })])) as Record<(typeof FIELDS)[number], HTMLSpanElement>;
  private readonly formError = h('p', { class: 'error', role: 'alert' });
  private editing: string | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor() {
    const field = (f: (typeof FIELDS)[number], label: string) =>
      h('div', { class: 'field' }, h('label', { for: `cam-${f}` }, label), this.inputs[f], this.errors[f]);
    for (const f of FIELDS) this.inputs[f].setAttribute('aria-describedby', `cam-${f}-error`);
    this.form.append(
      this.formTitle,
      field('name', 'Name'),
      field('url', 'Stream URL (rtsp, http, or a file when allowed)'),
      field('fps', 'Frames per second to analyse'),
      h('div', { class: 'field check' }, this.inputs.enabled, h('label', { for: 'cam-enabled' }, 'Enabled')),
      this.formError,
      h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Save camera'), h('button', { type: 'button', class: 'ghost', onclick: () => this.resetForm() }, 'Clear')),
    );
    this.form.addEventListener('submit', (e) => { e.preventDefault(); void this.save(); });
    this.el.append(h('h2', { id: 'cameras-title' }, 'Cameras'), this.grid, this.form);
  }

  start(): void {
    void this.refresh();
    this.timer ??= setInterval(() => void this.refresh(), REFRESH_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async refresh(): Promise<void> {
    let cameras: Camera[];
    try {
      const body = await api<{ cameras?: Camera[] } | Camera[]>('v1/cameras');
      cameras = Array.isArray(body) ? body : body.cameras ?? [];
    } catch (err) {
      clear(this.grid);
      this.grid.append(h('li', { class: 'error' }, `Cameras unavailable: ${(err as Error).message}`));
      return;
    }
    clear(this.grid);
    if (cameras.length === 0) this.grid.append(h('li', { class: 'muted' }, 'No cameras yet: add one below.'));
    const stamp = Date.now();
    for (const cam of cameras) this.grid.append(this.card(cam, stamp));
  }

  private card(cam: Camera, stamp: number): HTMLLIElement {
    const st = cam.status ?? {};
    const state = cam.enabled ? st.state ?? 'unknown' : 'stopped';
    return h('li', { class: 'camera', 'data-camera-id': cam.id, 'data-state': state },
      h('img', { src: withToken(`v1/cameras/${encodeURIComponent(cam.id)}/snapshot.jpg?t=${stamp}`), alt: `Latest frame of ${cam.name}`, width: 320, height: 256, onerror: (e: Event) => ((e.target as HTMLImageElement).classList.add('missing')) }),
      h('div', { class: 'meta' },
        h('strong', {}, cam.name), ' ', h('span', { class: `pill state-${state}` }, state),
        h('div', { class: 'muted url' }, cam.url),
        h('div', { class: 'muted' }, `${typeof st.fps === 'number' ? st.fps.toFixed(1) : '–'} fps measured · ${st.framesDropped ?? 0} dropped`),
        st.lastError ? h('div', { class: 'error' }, `Last error: ${st.lastError}`) : null,
        h('div', { class: 'row' },
          h('button', { type: 'button', class: 'ghost', onclick: () => this.edit(cam) }, 'Edit'),
          h('button', { type: 'button', class: 'ghost', onclick: () => void this.patch(cam.id, { enabled: !cam.enabled }) }, cam.enabled ? 'Disable' : 'Enable'),
          h('button', { type: 'button', class: 'danger', onclick: () => void this.remove(cam) }, 'Delete'),
        ),
      ),
    );
  }

  private edit(cam: Camera): void {
    this.editing = cam.id;
    this.formTitle.textContent = `Edit ${cam.name}`;
    this.inputs.name.value = cam.name;
    this.inputs.url.value = '';
    this.inputs.url.placeholder = `${cam.url} (leave empty to keep)`;
    this.inputs.url.required = false;
    this.inputs.fps.value = String(cam.fps);
    this.inputs.enabled.checked = cam.enabled;
    this.inputs.name.focus();
  }

  private resetForm(): void {
    this.editing = null;
    this.form.reset();
    this.formTitle.textContent = 'Add a camera';
    this.inputs.url.placeholder = 'rtsp://host:554/stream';
    this.inputs.url.required = true;
    this.showErrors({});
  }

  private showErrors(errors: Partial<Record<(typeof FIELDS)[number] | 'form', string>>): void {
    for (const f of FIELDS) {
      this.errors[f].textContent = errors[f] ?? '';
      this.inputs[f].setAttribute('aria-invalid', errors[f] ? 'true' : 'false');
    }
    this.formError.textContent = errors.form ?? '';
  }

  private async save(): Promise<void> {
    const name = this.inputs.name.value.trim();
    const url = this.inputs.url.value.trim();
    const fps = Number(this.inputs.fps.value);
    const local: Partial<Record<(typeof FIELDS)[number], string>> = {};
    if (!name) local.name = 'A name is required.';
    if (!url && !this.editing) local.url = 'A stream URL is required.';
    if (!(fps > 0 && fps <= 60)) local.fps = 'Between 0.1 and 60.';
    this.showErrors(local);
    if (Object.keys(local).length) return;
    const body: Record<string, unknown> = { name, fps, enabled: this.inputs.enabled.checked };
    if (url) body.url = url;
    try {
      if (this.editing) await api(`v1/cameras/${encodeURIComponent(this.editing)}`, { method: 'PATCH', body: JSON.stringify(body) });
      else await api('v1/cameras', { method: 'POST', body: JSON.stringify(body) });
      this.resetForm();
      await this.refresh();
    } catch (err) {
      this.showErrors(fieldErrors(err));
    }
  }

  private async patch(id: string, body: Record<string, unknown>): Promise<void> {
    try {
      await api(`v1/cameras/${encodeURIComponent(id)}`, { method: 'PATCH', body: JSON.stringify(body) });
    } finally {
      await this.refresh();
    }
  }

  private async remove(cam: Camera): Promise<void> {
    if (!confirm(`Delete camera ${cam.name}?`)) return;
    await api(`v1/cameras/${encodeURIComponent(cam.id)}`, { method: 'DELETE' });
    await this.refresh();
  }
}

/** Places an API validation error next to the field it is about. */
function fieldErrors(err: unknown): Partial<Record<(typeof FIELDS)[number] | 'form', string>> {
  if (!(err instanceof ApiError)) return { form: String(err) };
  const field = (err.details?.field as string | undefined) ?? FIELDS.find((f) => new RegExp(`\\b${f}\\b`).test(err.message)) ?? (err.code.startsWith('CAMERA_URL') ? 'url' : undefined);
  return field && (FIELDS as readonly string[]).includes(field) ? { [field]: err.message } : { form: err.message };
}
