import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { WebhookSink } from '../../inference/webhook-sink.js';
import type { Alert } from '../../queue/alert-stream.js';

const received: Array<{ alert: Alert }> = [];
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
    sink.notify(alert('1-0', 'open'));
    sink.notify(alert('2-0', 'update'));
    await sink.drain();
    expect(received.map((r) => r.alert.id)).toEqual(['1-0']);
    expect(sink.sent).toBe(1);
    answers = [400];
    sink.notify(alert('3-0', 'open', 'bird'));
    await sink.drain();
    expect(sink.failed).toBe(1);
    expect(received).toHaveLength(1);
  });
});
