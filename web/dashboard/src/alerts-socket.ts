import { ApiError, whoami } from './api.js';
import type { Alert } from './types.js';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface AlertFilter {
  camera?: string;
  label?: string;
  minScore?: number;
}

/**
 * The live alert feed: reconnects with backoff and asks for `since=<last id seen>` so nothing missed
 * while away is lost, and nothing is shown twice.
 */
export class AlertsSocket {
  private ws: WebSocket | null = null;
  private lastId: string | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly onAlert: (alert: Alert) => void,
    private readonly onState: (state: ConnectionState, detail?: string) => void,
    /** Called once when the server refuses the token: the socket then stops instead of retrying forever. */
    private readonly onRefused: () => void = () => undefined,
  ) {}

  start(since?: string | null): void {
    if (since) this.lastId = since;
    this.connect();
  }

  stop(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000);
  }

  private connect(): void {
    const params = new URLSearchParams();
    if (this.lastId) params.set('since', this.lastId);
    // The session cookie goes with the handshake: the URL carries no token.
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const base = new URL('.', location.href);
    const url = `${proto}://${base.host}${base.pathname.replace(/\/$/, '')}/v1/alerts/ws${params.size ? `?${params}` : ''}`;
    this.onState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(url);
    this.ws = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      this.attempt = 0;
      this.onState('live');
    });
    ws.addEventListener('message', (ev) => this.handle(String(ev.data)));
    ws.addEventListener('close', (ev) => {
      if (this.closed) return;
      // A refused upgrade looks like any network failure to the browser (1006): ask the server
      // whether the token is the reason before retrying.
      if (!opened) void this.retryUnlessRefused();
      else this.retry(ev);
    });
  }

  private async retryUnlessRefused(): Promise<void> {
    let refused = false;
    try {
      const me = await whoami();
      refused = me.tokens && me.role === 'none';
    } catch (err) {
      refused = err instanceof ApiError && err.status === 401;
    }
    if (refused) {
      this.closed = true;
      this.onState('offline', 'token refused');
      this.onRefused();
      return;
    }
    if (!this.closed) this.retry(null);
  }

  private retry(ev: CloseEvent | null): void {
    this.onState(ev?.code === 1008 ? 'offline' : 'reconnecting', ev?.reason || undefined);
    const delay = Math.min(30_000, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt++;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private handle(text: string): void {
    let msg: { type?: string; alert?: Alert } & Partial<Alert>;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.type !== 'alert') return;
    const alert = (msg.alert ?? msg) as Alert;
    if (!alert.id) return;
    this.lastId = alert.id;
    this.onAlert(alert);
  }
}
