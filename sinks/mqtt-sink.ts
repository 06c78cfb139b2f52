import { randomBytes } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../core/logger.js';
import { redactUrl } from '../core/redact.js';
import type { AlertSink, SinkEvent } from './alert-sink.js';

export interface MqttSinkOptions {
  url: string;
  /** Every topic starts with this (Home Assistant style: `skywatch/...`). */
  topicPrefix: string;
  logger: Logger;
  clientId?: string;
  /** Reconnect delay after the broker went away. */
  reconnectMs?: number;
}

/** A topic level from an id or label: MQTT wildcards, separators and spaces become `_`. */
export function topicLevel(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[/#+\s\u0000-\u001f]/g, '_') || '_';
}

/**
 * Alert events over MQTT with Home-Assistant-friendly topics:
 * - `<prefix>/available`: `online` / `offline`, retained; the broker sends `offline` (last will) when
 *   this process vanishes without closing.
 * - `<prefix>/events`: one JSON message per event (alert open/update/closed, camera down/up, drift).
 * - `<prefix>/<camera>/<label>`: how many alerts of that label are open on that camera, retained.
 * - `<prefix>/<camera>/status`: `online` / `offline`, retained, when a camera goes down or comes back.
 * Publishing never waits for the broker: messages queue while it is away and go when it is back.
 */
export class MqttSink implements AlertSink {
  readonly name = 'mqtt';
  private readonly client: MqttClient;
  private readonly prefix: string;
  /** Open alert ids per camera and label, for the retained counts. */
  private readonly open = new Map<string, Set<string>>();
  private readonly pending = new Set<Promise<unknown>>();
  published = 0;
  failed = 0;

  constructor(private readonly options: MqttSinkOptions) {
    this.prefix = options.topicPrefix.replace(/\/+$/, '');
    const available = `${this.prefix}/available`;
    const settings: IClientOptions = {
      clientId: options.clientId ?? `skywatch-${randomBytes(6).toString('hex')}`,
      reconnectPeriod: options.reconnectMs ?? 2_000,
      connectTimeout: 10_000,
      will: { topic: available, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    this.client = connect(options.url, settings);
    let warned = 0;
    this.client.on('connect', () => {
      options.logger.info({ url: redactUrl(options.url), prefix: this.prefix }, 'MQTT connected');
      this.publish(available, 'online', true);
    });
    this.client.on('error', (err) => {
      // One line every 10 s while the broker is away, not one per retry.
      if (Date.now() - warned > 10_000) options.logger.warn({ err, url: redactUrl(options.url) }, 'MQTT error (reconnecting)');
      warned = Date.now();
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  private publish(topic: string, payload: string, retain: boolean): void {
    const p = this.client.publishAsync(topic, payload, { qos: 1, retain }).then(
      () => void this.published++,
      (err: unknown) => {
        this.failed++;
        this.options.logger.warn({ err, topic }, 'MQTT publish failed');
      },
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  async deliver(event: SinkEvent): Promise<void> {
    this.publish(`${this.prefix}/events`, JSON.stringify(event), false);
    if (event.type === 'alert') {
      const { alert } = event;
      const key = `${topicLevel(alert.cameraId)}/${topicLevel(alert.label)}`;
      const ids = this.open.get(key) ?? new Set<string>();
      const before = ids.size;
      if (alert.status === 'closed') ids.delete(alert.alertId);
      else ids.add(alert.alertId);
      this.open.set(key, ids);
      if (ids.size !== before || alert.status === 'open') this.publish(`${this.prefix}/${key}`, String(ids.size), true);
    } else if (event.type === 'camera') {
      this.publish(`${this.prefix}/${topicLevel(event.cameraId)}/status`, event.state === 'down' ? 'offline' : 'online', true);
    }
  }

  /** Says `offline` (retained) and disconnects; messages still queued are given a moment to go. */
  async close(): Promise<void> {
    if (this.client.connected) {
      this.publish(`${this.prefix}/available`, 'offline', true);
      await Promise.race([Promise.all([...this.pending]), new Promise((r) => setTimeout(r, 3_000))]);
    }
    await this.client.endAsync(!this.client.connected);
  }
}
