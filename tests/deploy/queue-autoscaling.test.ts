import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { FrameQueue } from '../../queue/frame-queue.js';
import { createRedis } from '../../queue/redis-connection.js';
import { DEPLOY, docs, type Obj } from './deploy-files.js';

/**
 * The KEDA trigger scales workers on LLEN of one Redis list: check against real Redis that frames the
 * real FrameQueue submits wait in exactly that list (with this test's prefix in place of `skywatch`).
 */
describe('KEDA ScaledObject', () => {
  const prefix = `test:${randomBytes(4).toString('hex')}`;
  const redis = createRedis('redis://127.0.0.1:6379');
  const queue = new FrameQueue({ redis, prefix, pixelTtlMs: 10_000 });
  afterAll(async () => {
    await queue.queue.obliterate({ force: true });
    await queue.close();
    const admin = new Redis('redis://127.0.0.1:6379');
    const keys = await admin.keys(`${prefix}:*`);
    if (keys.length) await admin.del(...keys);
    admin.disconnect();
    redis.disconnect();
  });

  it('counts the frames waiting for a worker', async () => {
    const autoscaling = docs(path.join(DEPLOY, 'k8s', 'autoscaling', 'keda-scaledobject.yaml'));
    const trigger = ((autoscaling.find((d) => d.kind === 'ScaledObject')!.spec as Obj).triggers as Array<{ metadata: { listName: string } }>)[0].metadata;
    expect(trigger.listName.startsWith('skywatch:')).toBe(true);
    const list = trigger.listName.replace(/^skywatch:/, `${prefix}:`);
    await redis.ping();
    for (let seq = 0; seq < 3; seq++) {
      const rgb = Buffer.alloc(4 * 4 * 3, seq);
      const status = await queue.submit({ cameraId: 'cam', pipeline: 'p', owner: 'o', seq, capturedAt: Date.now(), width: 4, height: 4, crops: [{ trackId: 1, box: { x: 0, y: 0, width: 4, height: 4 }, rgb, width: 4, height: 4 }] });
      expect(status).toBe('queued');
    }
    expect(await redis.llen(list)).toBe(3);
    expect(await queue.depth()).toBe(3);
  });
});
