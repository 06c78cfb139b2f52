import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import type { Alert } from '../../queue/alert-stream.js';
import type { AlertSink, SinkEvent } from '../../sinks/alert-sink.js';
import { SinkList } from '../../sinks/sink-list.js';
import { WebhookSink } from '../../sinks/webhook-sink.js';

const bodies: string[] = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    bodies.push(body);
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Sinks that misbehave the ways a real one can: throwing at once, or never answering. */
class BrokenSink implements AlertSink {
  constructor(readonly name: string, private readonly mode: 'throw' | 'hang') {}
  deliver(_event: SinkEvent): Promise<void> {
    return this.mode === 'throw' ? Promise.reject(new Error('broker refused')) : new Promise(() => {});
  }
  async close(): Promise<void> {}
}

const alert: Alert = { id: '1-0', alertId: '1-0', cameraId: 'cam', label: 'drone', score: 0.9, firstAt: 1, lastAt: 1, frames: 3, box: null, modelVersion: 'v1', status: 'open', snapshotUrl: null };

describe('SinkList', () => {
  it('delivers to every sink although one throws and one hangs, and counts each', async () => {
    const webhook = new WebhookSink({ url, cooldownMs: 0, logger: silentLogger });
    const list = new SinkList([new BrokenSink('throws', 'throw'), new BrokenSink('hangs', 'hang'), webhook], silentLogger, 300);
    await list.deliver({ type: 'alert', alert });
    await list.deliver({ type: 'alert', alert: { ...alert, id: '2-0', status: 'update' } });
    await list.close();
    expect(bodies.map((b) => JSON.parse(b).alert.id)).toEqual(['1-0', '2-0']);
    expect(list.counters).toEqual({ throws: { delivered: 0, failed: 2 }, hangs: { delivered: 0, failed: 2 }, webhook: { delivered: 2, failed: 0 } });
  });
});
