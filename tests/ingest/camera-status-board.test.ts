import { afterAll, describe, expect, it } from 'vitest';
import type { CameraChange } from '../../ingest/camera-status-board.js';
import { CameraStatusBoard } from '../../ingest/camera-status-board.js';
import type { CameraState, CameraStatus } from '../../ingest/camera-supervisor.js';
import { createRedis } from '../../queue/redis-connection.js';

const prefix = `test-board-${process.pid}-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const status = (id: string, state: CameraState, since: number, lastError: string | null = null): CameraStatus & { ingestor: string } => ({
  id, state, lastError, fps: 0, framesDecoded: 0, framesGated: 0, framesQueued: 0, framesDropped: 0, drops: { in_flight: 0, no_model: 0, sink: 0, behind: 0 }, restarts: 0, passes: 0, width: null, height: null, lastFrameAt: null, lagMs: null, since, fetching: null, cropStream: null, ingestor: 'i1',
});

describe('CameraStatusBoard state changes', () => {
  it('reports a camera down once when it fails after being live, and up when it is live again', async () => {
    const board = new CameraStatusBoard(redis, prefix, 10_000);
    const changes: CameraChange[] = [];
    board.onChange((c) => changes.push(c));
    // Never live yet: connecting and failing is not "down" (it never was up).
    for (const [state, at] of [['connecting', 1], ['backoff', 2], ['connecting', 3], ['live', 4], ['live', 5], ['backoff', 6], ['connecting', 7], ['backoff', 8], ['live', 9], ['failed', 10]] as const) {
      await board.publish(status('c1', state, at, state === 'live' ? null : 'stream ended'), null);
    }
    await board.publish(status('c2', 'backoff', 1), null);
    expect(changes).toEqual([
      { cameraId: 'c1', state: 'down', error: 'stream ended', at: 6 },
      { cameraId: 'c1', state: 'up', at: 9 },
      { cameraId: 'c1', state: 'down', error: 'stream ended', at: 10 },
    ]);
    expect((await board.status('c1'))?.state).toBe('failed');
  });
});

describe('CameraStatusBoard previews on demand', () => {
  it('publishes nothing until asked; a request marks the camera wanted and gets the picture its ingestor then publishes', async () => {
    const board = new CameraStatusBoard(redis, prefix, 4_000);
    expect(await board.wanted(['w1', 'w2'])).toEqual(new Set());
    // The API side asks first: nothing published yet, so it waits for the ingestor's next pass.
    const asked = board.snapshot('w1');
    for (let i = 0; i < 50 && !(await board.wanted(['w1'])).has('w1'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await board.wanted(['w1', 'w2'])).toEqual(new Set(['w1']));
    // The ingestor side: a pass publishes the wanted camera's frame, and only status for the other.
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const wanted = await board.wanted(['w1', 'w2']);
    for (const id of ['w1', 'w2']) await board.publish(status(id, 'live', 1), wanted.has(id) ? jpeg : null);
    expect(await asked).toEqual(jpeg);
    expect(await board.snapshot('w2').then((b) => b === null)).toBe(true);
  }, 10_000);
});

