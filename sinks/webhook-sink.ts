import type { Logger } from '../core/logger.js';
import { redactUrl } from '../core/redact.js';
import type { AlertSink, SinkEvent } from './alert-sink.js';

export interface WebhookOptions {
  url: string;
  /** At most one call per camera and label this often (opening events always go); 0 sends every event. */
  cooldownMs: number;
  retries?: number;
  backoffMs?: number;
  timeoutMs?: number;
  logger: Logger;
  now?: () => number;
}

/** The JSON body of each call: `type` says which kind of event it is. */
export function webhookBody(event: SinkEvent): string {
  switch (event.type) {
    case 'alert':
      return JSON.stringify({ type: 'skywatch.alert', alert: event.alert });
    case 'camera': {
      const { type: _t, ...rest } = event;
      return JSON.stringify({ type: 'skywatch.camera', camera: rest });
    }
    case 'drift': {
      const { type: _t, ...rest } = event;
      return JSON.stringify({ type: 'skywatch.drift', drift: rest });
    }
  }
}

/**
 * Sends events to an HTTP endpoint as JSON: retried with exponential backoff on network errors and
 * 5xx/429 answers, never blocking the caller (calls run in the background), and alert updates
 * rate-limited per camera and label by a cooldown.
 */
export class WebhookSink implements AlertSink {
  readonly name = 'webhook';
  private readonly last = new Map<string, number>();
  private readonly pending = new Set<Promise<void>>();
  sent = 0;
  failed = 0;

  constructor(private readonly options: WebhookOptions) {}

  async deliver(event: SinkEvent): Promise<void> {
    if (event.type === 'alert') {
      const { alert } = event;
      const key = `${alert.cameraId}\u0000${alert.label}`;
      const now = this.options.now?.() ?? Date.now();
      if (alert.status !== 'open' && now - (this.last.get(key) ?? 0) < this.options.cooldownMs) return;
      this.last.set(key, now);
    }
    const p = this.post(webhookBody(event), event.type === 'alert' ? event.alert.id : event.cameraId).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async post(body: string, what: string): Promise<void> {
    const retries = this.options.retries ?? 4;
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(this.options.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000) });
        if (res.ok) {
          this.sent++;
          return;
        }
        if (res.status < 500 && res.status !== 429) throw Object.assign(new Error(`webhook answered ${res.status}`), { permanent: true });
        throw new Error(`webhook answered ${res.status}`);
      } catch (err) {
        if ((err as { permanent?: boolean }).permanent || attempt >= retries) {
          this.failed++;
          this.options.logger.warn({ err, url: redactUrl(this.options.url), event: what }, 'webhook delivery failed');
          return;
        }
        await new Promise((r) => setTimeout(r, (this.options.backoffMs ?? 500) * 2 ** attempt));
      }
    }
  }

  /** Waits for calls in flight (graceful shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async close(): Promise<void> {
    await this.drain();
  }
}
