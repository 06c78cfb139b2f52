import { api, ApiError, describeError, withToken } from './api.js';
import { FORM_FIELDS, fieldErrors, type FormErrors } from './field-errors.js';
import { downSince, humanCameraError, isDown } from './camera-messages.js';
import { confirmAction } from './confirm.js';
import { append, clear, h } from './dom.js';
import { modelLabels } from './model-labels.js';
import { notice } from './notices.js';
import { pageVisible, swapImage } from './visibility.js';
import { ZonesEditor } from './zones-editor.js';
import type { Camera } from './types.js';

const REFRESH_MS = 2000;
const FIELDS = FORM_FIELDS;
type Field = (typeof FIELDS)[number];
type Errors = FormErrors;

interface Tile {
  li: HTMLLIElement;
  img: HTMLImageElement;
  down: HTMLElement;
  title: HTMLElement;
  pill: HTMLElement;
  url: HTMLElement;
  stats: HTMLElement;
  toggle: HTMLButtonElement;
  camera: Camera;
  frameAt: number | null;
}

/**
 * Camera grid with live pictures and status, and a form to add or edit a camera (with its masks,
 * zones, threshold and alerting labels). Tiles are updated in place every 2 s while the page is
 * visible: a picture is only fetched when the camera has a new frame, and swapped in once loaded.
 */
export class CamerasView {
  readonly el = h('section', { class: 'view', 'aria-labelledby': 'cameras-title' });
  private readonly grid = h('ul', { class: 'cameras', 'aria-label': 'Cameras' });
  private readonly placeholder = h('li', { class: 'muted placeholder' }, 'No cameras yet.');
  private readonly tiles = new Map<string, Tile>();
  private readonly form = h('form', { class: 'camera-form admin-only', novalidate: true, 'aria-labelledby': 'camera-form-title' });
  private readonly formTitle = h('h3', { id: 'camera-form-title' }, 'Add a camera');
  private readonly inputs = {
    name: h('input', { id: 'cam-name', name: 'name', required: true, autocomplete: 'off' }),
    url: h('input', { id: 'cam-url', name: 'url', required: true, autocomplete: 'off', placeholder: 'rtsp://host:554/stream' }),
    cropUrl: h('input', { id: 'cam-cropUrl', name: 'cropUrl', autocomplete: 'off', placeholder: 'optional: rtsp://host:554/main' }),
    cropRemove: h('input', { id: 'cam-crop-remove', name: 'cropRemove', type: 'checkbox' }),
    fps: h('input', { id: 'cam-fps', name: 'fps', type: 'number', min: 0.1, max: 60, step: 0.1, value: 5 }),
    threshold: h('input', { id: 'cam-threshold', name: 'threshold', type: 'number', min: 0, max: 1, step: 0.01, placeholder: 'server default' }),
    enabled: h('input', { id: 'cam-enabled', name: 'enabled', type: 'checkbox', checked: true }),
    playOnce: h('input', { id: 'cam-play-once', name: 'playOnce', type: 'checkbox' }),
  };
  private labelBoxes: HTMLInputElement[] = [];
  private readonly labelField = h('fieldset', { class: 'labels', 'aria-describedby': 'cam-labels-error' }, h('legend', {}, 'Labels that raise an alert'));
  private readonly zones = new ZonesEditor();
  private readonly errors = Object.fromEntries(FIELDS.map((f) => [f, h('span', { class: 'error', id: `cam-${f}-error`, 'aria-live': 'polite' })])) as Record<Field, HTMLSpanElement>;
  private readonly formError = h('p', { class: 'error', role: 'alert' });
  private readonly saveButton = h('button', { type: 'submit', id: 'cam-save' }, 'Save camera');
  /** Shown only when editing a camera that has a crop stream. */
  private readonly cropRemoveField = h('div', { class: 'field check', hidden: true }, this.inputs.cropRemove, h('label', { for: 'cam-crop-remove' }, 'Remove the crop stream'));
  private editing: Camera | null = null;
  private saving = false;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor() {
    const field = (f: 'name' | 'url' | 'cropUrl' | 'fps' | 'threshold', label: string) =>
      h('div', { class: 'field' }, h('label', { for: `cam-${f}` }, label), this.inputs[f], this.errors[f]);
    for (const f of ['name', 'url', 'cropUrl', 'fps', 'threshold'] as const) this.inputs[f].setAttribute('aria-describedby', `cam-${f}-error`);
    this.form.append(
      this.formTitle,
      field('name', 'Name'),
      field('url', 'Stream URL (rtsp, http, a video file on a web server, or a file path on the server where allowed)'),
      field('cropUrl', 'Higher-resolution stream of the same view, for crops of small objects (optional)'),
      this.cropRemoveField,
      h('div', { class: 'row fields' }, field('fps', 'Frames per second to analyse'), field('threshold', 'Alert threshold (0 to 1)')),
      this.labelField,
      h('div', { class: 'field check' }, this.inputs.enabled, h('label', { for: 'cam-enabled' }, 'Enabled')),
      h('div', { class: 'field check' }, this.inputs.playOnce, h('label', { for: 'cam-play-once' }, 'A video file: play it once, then stop (otherwise it plays again and again)')),
      this.zones.el,
      this.errors.zones,
      this.formError,
      h('div', { class: 'row' }, this.saveButton, h('button', { type: 'button', class: 'ghost', onclick: () => this.resetForm() }, 'Clear')),
    );
    this.form.addEventListener('submit', (e) => { e.preventDefault(); void this.save(); });
    this.el.append(h('h2', { id: 'cameras-title' }, 'Cameras'), this.grid, this.form);
    document.addEventListener('visibilitychange', () => { if (this.timer && pageVisible()) void this.refresh(); });
  }

  /** One checkbox per label of the served model (the labels the server accepts). */
  private async loadLabels(): Promise<void> {
    if (this.labelBoxes.length) return;
    const labels = await modelLabels();
    if (this.labelBoxes.length) return;
    this.labelBoxes = labels.map((l) => h('input', { type: 'checkbox', name: 'labels', value: l, id: `cam-label-${l}`, checked: l === 'drone' }));
    this.labelField.append(...this.labelBoxes.map((box) => h('span', { class: 'check' }, box, h('label', { for: box.id }, box.value))), this.errors.labels);
  }

  start(): void {
    void this.loadLabels();
    void this.refresh();
    this.timer ??= setInterval(() => { if (pageVisible()) void this.refresh(); }, REFRESH_MS);
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
      this.placeholder.textContent = `Cameras unavailable: ${describeError(err)}`;
      this.placeholder.className = 'error placeholder';
      if (!this.placeholder.parentElement) this.grid.prepend(this.placeholder);
      return;
    }
    this.placeholder.className = 'muted placeholder';
    this.placeholder.textContent = 'No cameras yet.';
    if (cameras.length === 0) {
      if (!this.placeholder.parentElement) this.grid.prepend(this.placeholder);
    } else this.placeholder.remove();
    const seen = new Set<string>();
    for (const cam of cameras) {
      seen.add(cam.id);
      let tile = this.tiles.get(cam.id);
      if (!tile) {
        tile = this.createTile(cam);
        this.tiles.set(cam.id, tile);
        this.grid.append(tile.li);
      }
      this.updateTile(tile, cam);
    }
    for (const [id, tile] of this.tiles) {
      if (seen.has(id)) continue;
      tile.li.remove();
      this.tiles.delete(id);
    }
  }

  private createTile(cam: Camera): Tile {
    const img = h('img', { alt: `Latest frame of ${cam.name}`, width: 320, height: 256, hidden: true });
    const down = h('div', { class: 'down', hidden: true, role: 'status' });
    const title = h('strong');
    const pill = h('span', { class: 'pill' });
    const url = h('div', { class: 'muted url' });
    const stats = h('div', { class: 'muted stats' });
    const toggle = h('button', { type: 'button', class: 'ghost admin-only' });
    const tile: Tile = { li: h('li', { class: 'camera', 'data-camera-id': cam.id }), img, down, title, pill, url, stats, toggle, camera: cam, frameAt: null };
    toggle.addEventListener('click', () => void this.patch(tile.camera.id, { enabled: !tile.camera.enabled }));
    tile.li.append(h('div', { class: 'picture' }, img, down),
      h('div', { class: 'meta' }, title, ' ', pill, url, stats,
        h('div', { class: 'row admin-only' },
          h('button', { type: 'button', class: 'ghost', onclick: () => this.edit(tile.camera) }, 'Edit'),
          toggle,
          h('button', { type: 'button', class: 'danger', onclick: () => void this.remove(tile.camera) }, 'Delete'))));
    return tile;
  }

  private updateTile(tile: Tile, cam: Camera): void {
    tile.camera = cam;
    const st = cam.status ?? {};
    const dead = isDown(cam);
    const state = !cam.enabled ? 'stopped' : dead ? 'down' : st.state ?? 'unknown';
    tile.li.dataset.state = state;
    tile.title.textContent = cam.name;
    tile.pill.textContent = { live: 'live', connecting: 'connecting', down: 'down', stopped: 'stopped', unknown: 'no status' }[state] ?? state;
    tile.pill.className = `pill state-${state}`;
    tile.url.textContent = cam.url;
    const crop = st.cropStream;
    // The crop stream fails on its own (the camera keeps working): its state is said beside the rest.
    const cropText = !crop ? '' : crop.state === 'live' ? ` · crops from ${crop.width}x${crop.height}` : ` · crop stream ${crop.state}${crop.lastError ? `: ${crop.lastError}` : ''}`;
    // Under half a second late is a camera keeping up; past it the operator sees that alerts come late.
    const lagText = typeof st.lagMs === 'number' && st.lagMs >= 500 ? ` · ${(st.lagMs / 1000).toFixed(1)} s behind` : '';
    // A video file on a web server is copied before it plays: a large one takes a while.
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const fetchText = st.fetching ? ` · fetching the file: ${mb(st.fetching.bytes)}${st.fetching.total ? ` of ${mb(st.fetching.total)}` : ''} MB` : '';
    tile.stats.textContent = `${typeof st.fps === 'number' ? st.fps.toFixed(1) : '–'} fps measured (${cam.fps} asked) · ${st.framesDropped ?? 0} dropped${lagText}${cropText}${fetchText}`;
    tile.toggle.textContent = cam.enabled ? 'Disable' : 'Enable';
    if (dead) {
      const since = downSince(cam);
      clear(tile.down);
      append(tile.down, [
        h('strong', {}, `Camera down${since ? ` since ${since}` : ''}`),
        h('p', {}, `No pictures: ${humanCameraError(st.lastError)}. Skywatch keeps retrying.`),
        st.lastError ? h('details', {}, h('summary', {}, 'Technical detail'), h('code', {}, st.lastError)) : null]);
    }
    else if (!cam.enabled) {
      clear(tile.down);
      tile.down.append(h('strong', {}, 'Stopped'), h('p', {}, 'This camera is disabled: enable it to watch its stream.'));
    }
    tile.down.hidden = !dead && cam.enabled;
    tile.down.classList.toggle('stopped', !cam.enabled);
    // A picture exists only once the camera has delivered a frame: never ask for one before (404s).
    const frameAt = st.lastFrameAt ?? null;
    const hasFrame = !dead && cam.enabled && (frameAt !== null || (st.state === 'live' && (st.framesDecoded ?? 0) > 0));
    tile.img.hidden = !hasFrame && !tile.img.getAttribute('src');
    if (dead || !cam.enabled) tile.img.hidden = true;
    if (hasFrame && frameAt !== tile.frameAt) {
      tile.frameAt = frameAt;
      swapImage(tile.img, withToken(`v1/cameras/${encodeURIComponent(cam.id)}/snapshot.jpg?t=${frameAt ?? Date.now()}`));
    }
  }

  private edit(cam: Camera): void {
    this.editing = cam;
    this.formTitle.textContent = `Edit ${cam.name}`;
    this.inputs.name.value = cam.name;
    this.inputs.url.value = '';
    this.inputs.url.placeholder = `${cam.url} (leave empty to keep)`;
    this.inputs.url.required = false;
    this.inputs.cropUrl.value = '';
    this.inputs.cropUrl.placeholder = cam.cropUrl ? `${cam.cropUrl} (leave empty to keep)` : 'optional: rtsp://host:554/main';
    this.inputs.cropRemove.checked = false;
    this.cropRemoveField.hidden = !cam.cropUrl;
    this.inputs.fps.value = String(cam.fps);
    this.inputs.threshold.value = cam.threshold === undefined ? '' : String(cam.threshold);
    const labels = cam.labels ?? ['drone'];
    for (const box of this.labelBoxes) box.checked = labels.includes(box.value);
    this.inputs.enabled.checked = cam.enabled;
    this.inputs.playOnce.checked = cam.loop === false;
    const st = cam.status ?? {};
    const hasFrame = st.lastFrameAt != null || st.state === 'live';
    this.zones.setPicture(hasFrame ? withToken(`v1/cameras/${encodeURIComponent(cam.id)}/snapshot.jpg?t=${Date.now()}`) : null, st.width && st.height ? st.width / st.height : 16 / 9);
    this.zones.set(cam.motionMasks, cam.alertZones);
    this.showErrors({});
    this.inputs.name.focus();
  }

  private resetForm(): void {
    this.editing = null;
    this.form.reset();
    this.formTitle.textContent = 'Add a camera';
    this.inputs.url.placeholder = 'rtsp://host:554/stream';
    this.inputs.url.required = true;
    this.inputs.cropUrl.placeholder = 'optional: rtsp://host:554/main';
    this.cropRemoveField.hidden = true;
    this.zones.setPicture(null, 16 / 9);
    this.zones.set([], []);
    this.showErrors({});
  }

  private showErrors(errors: Errors): void {
    for (const f of FIELDS) {
      this.errors[f].textContent = errors[f] ?? '';
      if (f in this.inputs) this.inputs[f as keyof typeof this.inputs].setAttribute('aria-invalid', errors[f] ? 'true' : 'false');
    }
    this.formError.textContent = errors.form ?? '';
  }

  private values(): Record<string, string> {
    return { name: this.inputs.name.value, url: this.inputs.url.value, cropUrl: this.inputs.cropUrl.value, fps: this.inputs.fps.value, threshold: this.inputs.threshold.value };
  }

  /**
   * One save at a time: the button is busy until the server answers, so a double click cannot add
   * the camera twice. Afterwards only the fields nobody changed meanwhile are cleared.
   */
  private async save(): Promise<void> {
    if (this.saving) return;
    const submitted = this.values();
    const name = submitted.name.trim();
    const url = submitted.url.trim();
    const fps = Number(submitted.fps);
    const threshold = submitted.threshold.trim() === '' ? undefined : Number(submitted.threshold);
    const labels = this.labelBoxes.filter((b) => b.checked).map((b) => b.value);
    const local: Errors = {};
    if (!name) local.name = 'A name is required.';
    if (!url && !this.editing) local.url = 'A stream URL is required.';
    if (!(fps >= 0.1 && fps <= 60)) local.fps = 'Between 0.1 and 60.';
    if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) local.threshold = 'Between 0 and 1.';
    if (labels.length === 0 && this.labelBoxes.length) local.labels = 'Choose at least one label.';
    if (this.zones.drafting) local.zones = 'Finish the shape being drawn (close it) or undo its points.';
    this.showErrors(local);
    if (Object.keys(local).length) return;
    const body: Record<string, unknown> = { name, fps, enabled: this.inputs.enabled.checked };
    // Sent when it says something: play once, or a camera that played once set back to looping.
    if (this.inputs.playOnce.checked || this.editing?.loop === false) body.loop = !this.inputs.playOnce.checked;
    if (url) body.url = url;
    const cropUrl = submitted.cropUrl.trim();
    if (cropUrl) body.cropUrl = cropUrl;
    else if (this.editing?.cropUrl && this.inputs.cropRemove.checked) body.cropUrl = null;
    // Masks, zones, threshold and labels are sent when set (or when the camera already has them), so a
    // server without these fields still takes a plain camera.
    const shapes = this.zones.value;
    const had = this.editing;
    if (shapes.motionMasks.length || had?.motionMasks?.length) body.motionMasks = shapes.motionMasks;
    if (shapes.alertZones.length || had?.alertZones?.length) body.alertZones = shapes.alertZones;
    if (threshold !== undefined || had?.threshold !== undefined) body.threshold = threshold ?? null;
    if (labels.length && (labels.join() !== 'drone' || had?.labels)) body.labels = labels;
    if (body.threshold === null) delete body.threshold;
    this.saving = true;
    this.saveButton.disabled = true;
    this.saveButton.setAttribute('aria-busy', 'true');
    this.saveButton.textContent = 'Saving…';
    try {
      if (had) await api(`v1/cameras/${encodeURIComponent(had.id)}`, { method: 'PATCH', body: JSON.stringify(body) });
      else await api('v1/cameras', { method: 'POST', body: JSON.stringify(body) });
      notice(`Camera ${name} saved.`, 'ok');
      const now = this.values();
      const untouched = Object.keys(submitted).every((k) => now[k] === submitted[k]);
      if (untouched) this.resetForm();
      else {
        // Someone typed while the save ran: keep their text, clear only what they did not touch.
        for (const k of ['name', 'url', 'cropUrl', 'fps', 'threshold'] as const) if (now[k] === submitted[k]) this.inputs[k].value = k === 'fps' ? '5' : '';
        this.editing = null;
        this.formTitle.textContent = 'Add a camera';
      }
      void this.refresh();
    } catch (err) {
      this.showErrors(fieldErrors(err));
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) notice(describeError(err));
    } finally {
      this.saving = false;
      this.saveButton.disabled = false;
      this.saveButton.removeAttribute('aria-busy');
      this.saveButton.textContent = 'Save camera';
    }
  }

  private async patch(id: string, body: Record<string, unknown>): Promise<void> {
    try {
      await api(`v1/cameras/${encodeURIComponent(id)}`, { method: 'PATCH', body: JSON.stringify(body) });
    } catch (err) {
      notice(describeError(err));
    } finally {
      await this.refresh();
    }
  }

  private async remove(cam: Camera): Promise<void> {
    if (!(await confirmAction('Delete camera', `Delete camera ${cam.name}? Its stream stops being watched.`, 'Delete'))) return;
    try {
      await api(`v1/cameras/${encodeURIComponent(cam.id)}`, { method: 'DELETE' });
    } catch (err) {
      notice(describeError(err));
    }
    await this.refresh();
  }
}
