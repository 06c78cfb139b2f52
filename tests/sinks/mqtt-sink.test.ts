import { spawn } from 'node:child_process';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import type { Alert } from '../../queue/alert-stream.js';
import { MqttSink, topicLevel } from '../../sinks/mqtt-sink.js';

// Real Mosquitto at 127.0.0.1:1883; every run has topics of its own.
const BROKER = 'mqtt://127.0.0.1:1883';
const prefix = `test-skywatch-${process.pid}-${Date.now()}`;
let observer: MqttClient;
const messages: Array<{ topic: string; payload: string; retain: boolean }> = [];

beforeAll(async () => {
  observer = await connectAsync(BROKER, { reconnectPeriod: 0 });
  observer.on('message', (topic, payload, packet) => messages.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await observer.subscribeAsync(`${prefix}/#`, { qos: 1 });
});

afterAll(async () => {
  // Clear what this run left retained on the broker.
  for (const topic of new Set(messages.filter((m) => m.retain || m.topic.endsWith('/available') || /\/status$|\/drone$/.test(m.topic)).map((m) => m.topic))) {
    await observer.publishAsync(topic, '', { retain: true, qos: 1 });
  }
  await observer.endAsync();
});

const until = async (fn: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
};

const alert = (alertId: string, status: Alert['status'], cameraId = 'cam/1'): Alert => ({ id: `${alertId}-${status}`, alertId, cameraId, label: 'drone', score: 0.9, firstAt: 1, lastAt: 2, frames: 3, box: null, modelVersion: 'v1', status, snapshotUrl: null });
const last = (topic: string) => messages.filter((m) => m.topic === topic).at(-1)?.payload;

describe('MqttSink against Mosquitto', () => {
  it('publishes availability, events, retained per-camera counts and camera status', async () => {
    const sink = new MqttSink({ url: BROKER, topicPrefix: prefix, logger: silentLogger });
    await until(() => last(`${prefix}/available`) === 'online');
    const cam = topicLevel('cam/1');
    expect(cam).toBe('cam_1');
    await sink.deliver({ type: 'alert', alert: alert('1-0', 'open') });
    await until(() => last(`${prefix}/${cam}/drone`) === '1');
    await sink.deliver({ type: 'alert', alert: alert('2-0', 'open') });
    await until(() => last(`${prefix}/${cam}/drone`) === '2');
    await sink.deliver({ type: 'alert', alert: alert('1-0', 'update') });
    await sink.deliver({ type: 'alert', alert: alert('1-0', 'closed') });
    await until(() => last(`${prefix}/${cam}/drone`) === '1');
    await sink.deliver({ type: 'camera', cameraId: 'cam/1', state: 'down', error: 'stream ended', at: 10 });
    await until(() => last(`${prefix}/${cam}/status`) === 'offline');

    const events = messages.filter((m) => m.topic === `${prefix}/events`).map((m) => JSON.parse(m.payload));
    expect(events.map((e) => (e.type === 'alert' ? `${e.alert.alertId}:${e.alert.status}` : `${e.cameraId}:${e.state}`))).toEqual(['1-0:open', '2-0:open', '1-0:update', '1-0:closed', 'cam/1:down']);

    // A client that subscribes later gets the retained state at once (what Home Assistant does on start).
    const late = await connectAsync(BROKER, { reconnectPeriod: 0 });
    const retained = new Map<string, string>();
    late.on('message', (topic, payload, packet) => packet.retain && retained.set(topic, payload.toString()));
    await late.subscribeAsync(`${prefix}/${cam}/#`, { qos: 1 });
    await until(() => retained.size === 2);
    expect(Object.fromEntries(retained)).toEqual({ [`${prefix}/${cam}/drone`]: '1', [`${prefix}/${cam}/status`]: 'offline' });
    await late.endAsync();

    await sink.close();
    await until(() => last(`${prefix}/available`) === 'offline');
    expect(sink.failed).toBe(0);
  });

  it('the broker says offline (last will) when the process dies without closing', async () => {
    const willPrefix = `${prefix}-will`;
    await observer.subscribeAsync(`${willPrefix}/#`, { qos: 1 });
    const script = `import { MqttSink } from './sinks/mqtt-sink.ts'; import { silentLogger } from './core/logger.ts';
      const s = new MqttSink({ url: '${BROKER}', topicPrefix: '${willPrefix}', logger: silentLogger }); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), stdio: 'ignore' });
    try {
      await until(() => last(`${willPrefix}/available`) === 'online', 30_000);
      child.kill('SIGKILL');
      await until(() => last(`${willPrefix}/available`) === 'offline', 30_000);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
