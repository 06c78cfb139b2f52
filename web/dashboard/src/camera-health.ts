import { api } from './api.js';
import { downSince, humanCameraError, isDown } from './camera-messages.js';
import { h } from './dom.js';
import { pageVisible } from './visibility.js';
import type { Camera } from './types.js';

const POLL_MS = 10_000;

/**
 * A banner on every page while a camera is down ("camera down since ..."), so a dead camera is
 * noticed without opening the Cameras page. Polls only while the page is visible.
 */
export class CameraHealth {
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly box = h('div', { class: 'camera-health', role: 'status', 'aria-live': 'polite' });

  constructor(host: HTMLElement) {
    host.append(this.box);
  }

  start(): void {
    void this.poll();
    this.timer ??= setInterval(() => { if (pageVisible()) void this.poll(); }, POLL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async poll(): Promise<void> {
    let cameras: Camera[];
    try {
      const body = await api<{ cameras?: Camera[] }>('v1/cameras');
      cameras = body.cameras ?? [];
    } catch {
      return;
    }
    const down = cameras.filter(isDown);
    const text = down.map((c) => `Camera ${c.name} down${downSince(c) ? ` since ${downSince(c)}` : ''}: ${humanCameraError(c.status?.lastError)}.`).join(' ');
    if (this.box.textContent === text) return;
    this.box.textContent = text;
    this.box.classList.toggle('banner', down.length > 0);
  }
}
