import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { CropResults } from '../../queue/crop-results.js';
import { FrameQueue } from '../../queue/frame-queue.js';
import { createRedis } from '../../queue/redis-connection.js';
import { publishTiny } from '../support/tiny-model.js';

const BIN = path.resolve('bin/skywatch.mjs');
const prefix = `test-workers-${process.pid}-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
const children: ChildProcess[] = [];

function worker(registry: string, state: string, port: number): ChildProcess {
  const child = spawn('node', [BIN, 'worker', '--registry', registry, '--port', String(port)], {
    env: { ...process.env, SKYWATCH_STATE_DIR: state, SKYWATCH_REDIS_PREFIX: prefix, SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_FRAME_DEADLINE_MS: '600000' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('a worker killed mid-job', () => {
  it('loses nothing: its jobs are done by another worker', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-kill-'));
    const registry = path.join(dir, 'registry');
    await publishTiny(new ModelRegistry(new LocalStore(registry)), path.join(dir, 'm'), 'v1');
    const queue = new FrameQueue({ redis, prefix, pixelTtlMs: 600_000 });
    const port = 18800 + (process.pid % 100) * 2;
    const first = worker(registry, path.join(dir, 's1'), port);
    const total = 300;
    const crop = (trackId: number) => ({ trackId, box: { x: 0, y: 0, width: 16, height: 16 }, rgb: Buffer.alloc(16 * 16 * 3, 90), width: 16, height: 16 });
    for (let seq = 0; seq < total; seq++) {
      expect(await queue.submit({ cameraId: 'cam', pipeline: 'p1', owner: 'test-owner', seq, capturedAt: Date.now(), width: 64, height: 64, crops: [crop(1), crop(2), crop(3), crop(4)] })).toBe('queued');
    }
    const counts = () => queue.queue.getJobCounts('completed', 'failed', 'active', 'waiting', 'delayed');
    for (let i = 0; i < 600 && (await counts()).completed < 20; i++) await new Promise((r) => setTimeout(r, 50));
    const atKill = await counts();
    first.kill('SIGKILL');
    expect(atKill.completed).toBeGreaterThanOrEqual(20);
    expect(atKill.completed).toBeLessThan(total);
    worker(registry, path.join(dir, 's2'), port + 1);
    let now = await counts();
    for (let i = 0; i < 900 && now.completed < total; i++) {
      await new Promise((r) => setTimeout(r, 100));
      now = await counts();
    }
    expect(now).toMatchObject({ completed: total, failed: 0, active: 0, waiting: 0 });
    // Every frame's scores went back to its owner, each crop under its track.
    const results = await new CropResults(redis, prefix).read('test-owner', '0-0', 1000, redis);
    const seqs = new Set(results.map((r) => r.result.seq));
    expect(seqs.size).toBe(total);
    expect(results[0].result.crops.map((c) => c.trackId)).toEqual([1, 2, 3, 4]);
    // The surviving worker answers probes and reports its work to Prometheus.
    expect((await fetch(`http://127.0.0.1:${port + 1}/ready`)).status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${port + 1}/metrics`)).text();
    const inferred = Number(/skywatch_worker_frames\{what="inferred",reason=""\} (\d+)/.exec(metrics)?.[1]);
    expect(inferred).toBeGreaterThan(0);
    expect(inferred).toBeLessThanOrEqual(total);
    await queue.close();
  }, 120_000);
});
