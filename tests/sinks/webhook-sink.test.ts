import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import type { Alert } from '../../queue/alert-stream.js';
import { WebhookSink } from '../../sinks/webhook-sink.js';

const received: Array<{ type: string; alert?: Alert; camera?: { cameraId: string; state: string } }> = [];
let answers: number[] = [];
const server = createServer((req: IncomingMessage, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const status = answers.shift() ?? 200;
    if (status === 200) received.push(JSON.parse(body));
    res.writeHead(status).end();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const alert = (id: string, status: Alert['status'], label = 'drone'): Alert => ({ id, alertId: id, cameraId: 'cam', label, score: 0.9, firstAt: 1, lastAt: 2, frames: 3, box: null, modelVersion: 'v1', status, snapshotUrl: null });

describe('WebhookSink', () => {
  it('posts alerts as JSON, retries 5xx with backoff, gives up on 4xx, and honours the cooldown', async () => {
    received.length = 0;
    answers = [503, 500];
    const sink = new WebhookSink({ url, cooldownMs: 10_000, backoffMs: 20, logger: silentLogger });
    await sink.deliver({ type: 'alert', alert: alert('1-0', 'open') });
    await sink.deliver({ type: 'alert', alert: alert('2-0', 'update') });
    await sink.drain();
    expect(received.map((r) => r.alert?.id)).toEqual(['1-0']);
    expect(sink.sent).toBe(1);
    answers = [400];
    await sink.deliver({ type: 'alert', alert: alert('3-0', 'open', 'bird') });
    await sink.drain();
    expect(sink.failed).toBe(1);
    expect(received).toHaveLength(1);
    await sink.close();
  });

  it('sends a camera that went down as a skywatch.camera event, whatever the alert cooldown', async () => {
    received.length = 0;
    const sink = new WebhookSink({ url, cooldownMs: 60_000, logger: silentLogger });
    await sink.deliver({ type: 'camera', cameraId: 'cam_1', state: 'down', error: 'stream ended', at: 5 });
    await sink.deliver({ type: 'camera', cameraId: 'cam_1', state: 'up', at: 6 });
    await sink.close();
    expect(received.map((r) => [r.type, r.camera?.cameraId, r.camera?.state])).toEqual([['skywatch.camera', 'cam_1', 'down'], ['skywatch.camera', 'cam_1', 'up']]);
  });
});
