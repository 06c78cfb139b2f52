import type { Alert } from '../queue/alert-stream.js';

/**
 * What sinks receive. Alert events arrive after the Redis stream stored them (so they carry their
 * stream id); camera events when a camera that was live goes down, and when it comes back.
 */
export type SinkEvent =
  | { type: 'alert'; alert: Alert }
  | { type: 'camera'; cameraId: string; name?: string; state: 'down' | 'up'; error?: string; at: number }
  | { type: 'drift'; cameraId: string; features: Record<string, number>; drifted: string[]; at: number };

/** One place alert events go (webhook, MQTT, ...). `deliver` must not throw for a remote failure it retries itself. */
export interface AlertSink {
  readonly name: string;
  deliver(event: SinkEvent): Promise<void>;
  /** Finishes what is in flight and releases connections. */
  close(): Promise<void>;
}
