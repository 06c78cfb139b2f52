import { afterAll, describe, expect, it } from 'vitest';
import { AlertStream, type AlertInput } from '../../queue/alert-stream.js';
import { createRedis } from '../../queue/redis-connection.js';

const prefix = `test-alert-stream-${process.pid}-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
const reader = createRedis('redis://127.0.0.1:6379');
const stream = new AlertStream(redis, prefix, 1000);

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  reader.disconnect();
});

const input = (status: AlertInput['status'], alertId?: string, hasSnapshot = true): AlertInput => ({ ...(alertId ? { alertId } : {}), cameraId: 'cam', label: 'drone', score: 0.9, firstAt: 1, lastAt: 2, frames: 3, box: { x: 1, y: 2, width: 3, height: 4, area: 12 }, modelVersion: 'v1', status, hasSnapshot });

describe('AlertStream snapshots', () => {
  it('a reader that sees an entry always finds its snapshot (stored before the entry is written)', async () => {
    const seen: Array<Buffer | null> = [];
    let last = await stream.lastId();
    const reading = (async () => {
      while (seen.length < 20) {
        for (const a of await stream.wait(last, 1_000, reader)) {
          // Read the snapshot the moment the entry appears, as the recorder and the dashboard do.
          seen.push(await stream.snapshot(a.id));
          last = a.id;
        }
      }
    })();
    for (let i = 0; i < 20; i++) await stream.add(input('open'), Buffer.from(`jpeg-${i}`));
    await reading;
    expect(seen.map((b) => b?.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `jpeg-${i}`));
  });

  it("the closing event keeps the alert's latest snapshot", async () => {
    const open = await stream.add(input('open'), Buffer.from('first'));
    const update = await stream.add(input('update', open.alertId), Buffer.from('second'));
    const closed = await stream.add({ ...input('closed', open.alertId), hasSnapshot: false }, null);
    expect(closed.alertId).toBe(open.alertId);
    expect(closed.snapshotUrl).toBe(`v1/alerts/${closed.id}/snapshot.jpg`);
    expect((await stream.snapshot(closed.id))?.toString()).toBe('second');
    expect((await stream.snapshot(update.id))?.toString()).toBe('second');
    expect((await stream.snapshot(open.id))?.toString()).toBe('first');
    // Read back from Redis (as another process would), the closing entry still names its snapshot.
    const [again] = await stream.after(update.id, 1);
    expect(again.snapshotUrl).not.toBeNull();
  });

  it('an alert that never had a snapshot closes without one', async () => {
    const open = await stream.add(input('open', undefined, false), null);
    const closed = await stream.add(input('closed', open.alertId, false), null);
    expect(closed.snapshotUrl).toBeNull();
    expect(await stream.snapshot(closed.id)).toBeNull();
  });
});
