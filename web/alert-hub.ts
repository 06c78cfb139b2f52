import type { RedisClient } from '../core/redis-client.js';
import type { WebSocket } from 'ws';
import type { Logger } from '../core/logger.js';
import type { Alert, AlertStream } from '../queue/alert-stream.js';

export interface AlertFilter {
  camera?: string;
  label?: string;
  minScore?: number;
}

interface Client {
  socket: WebSocket;
  filter: AlertFilter;
  /** Id of the last alert this client has been sent (or skipped by its filter). */
  lastId: string;
  /** Live alerts that arrived while the client's history was still being replayed. */
  pending: Alert[] | null;
}

const MAX_BUFFERED = 1 << 20;

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

const U64_MAX = 18446744073709551615n;

/** True when both parts of `ms-seq` fit the 64-bit fields Redis keeps them in. */
export function streamIdFits(id: string): boolean {
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(id);
  return !!m && BigInt(m[1]) <= U64_MAX && BigInt(m[2]) <= U64_MAX;
}

export function matches(filter: AlertFilter, a: Alert): boolean {
  return (!filter.camera || a.cameraId === filter.camera) && (!filter.label || a.label === filter.label) && (filter.minScore === undefined || a.score >= filter.minScore);
}

/**
 * One tail of the alert stream per API process (XREAD BLOCK on a connection of its own), fanned out to
 * every socket. A client that connects with `since` first gets the history after it, then the live
 * tail, with nothing repeated and nothing skipped. A client that cannot keep up (send buffer over
 * 1 MiB) is told and disconnected; it never slows the others.
 */
export class AlertHub {
  private readonly clients = new Set<Client>();
  private running = false;
  private lastSeen = '$';

  constructor(private readonly stream: AlertStream, private readonly reader: RedisClient, private readonly logger: Logger) {}

  async start(): Promise<void> {
    this.lastSeen = await this.stream.lastId();
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const alerts = await this.stream.wait(this.lastSeen, 2_000, this.reader);
        for (const a of alerts) {
          this.lastSeen = a.id;
          for (const c of this.clients) this.deliver(c, a);
        }
      } catch (err) {
        if (!this.running) return;
        this.logger.warn({ err }, 'alert hub: stream read failed, retrying');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  private deliver(c: Client, a: Alert): void {
    if (c.pending) {
      c.pending.push(a);
      return;
    }
    if (compareIds(a.id, c.lastId) <= 0) return;
    c.lastId = a.id;
    if (matches(c.filter, a)) this.send(c, { type: 'alert', alert: a });
  }

  send(c: Client, message: unknown): void {
    if (c.socket.readyState !== c.socket.OPEN) return;
    if (c.socket.bufferedAmount > MAX_BUFFERED) {
      try {
        c.socket.send(JSON.stringify({ type: 'overflow', message: 'client too slow: disconnected; reconnect with since=<last id>' }));
      } catch {}
      c.socket.close(1013, 'too slow');
      this.clients.delete(c);
      return;
    }
    c.socket.send(JSON.stringify(message));
  }

  /** Adds a socket; replays history after `since` when given, then streams live. */
  async add(socket: WebSocket, filter: AlertFilter, since: string | null): Promise<Client> {
    // Ids whose parts do not fit Redis's 64-bit fields would make the replay fail (and the socket
    // drop with 1006): they are refused as the bad requests they are.
    if (since && !streamIdFits(since)) {
      socket.send(JSON.stringify({ type: 'error', code: 'BAD_REQUEST', message: 'since must be a stream id whose parts are below 2^64' }));
      socket.close(1008, 'bad since');
      return { socket, filter, lastId: this.lastSeen, pending: null };
    }
    const c: Client = { socket, filter, lastId: since ?? this.lastSeen, pending: since ? [] : null };
    this.clients.add(c);
    socket.on('close', () => this.clients.delete(c));
    this.send(c, { type: 'hello', since: c.lastId });
    if (since) {
      for (let batch = await this.stream.after(since); batch.length; batch = await this.stream.after(c.lastId)) {
        for (const a of batch) {
          c.lastId = a.id;
          if (matches(c.filter, a)) this.send(c, { type: 'alert', alert: a });
        }
      }
      const live = c.pending ?? [];
      c.pending = null;
      for (const a of live) this.deliver(c, a);
    }
    return c;
  }

  setFilter(c: Client, filter: AlertFilter): void {
    c.filter = filter;
  }

  get size(): number {
    return this.clients.size;
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const c of this.clients) c.socket.close(1001, 'server shutting down');
    this.clients.clear();
    this.reader.disconnect();
  }
}
