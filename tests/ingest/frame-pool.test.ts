import { describe, expect, it } from 'vitest';
import { FramePool } from '../../ingest/frame-pool.js';
import { FrameRing } from '../../ingest/frame-ring.js';

const BYTES = 12;

describe('FramePool with a FrameRing', () => {
  it('reuses the buffer of a frame that left the ring, and only that one', () => {
    const pool = new FramePool(BYTES);
    const ring = new FrameRing(2, pool);
    const a = pool.take();
    const b = pool.take();
    const c = pool.take();
    ring.push({ seq: 1, at: 1, rgb: a });
    ring.push({ seq: 2, at: 2, rgb: b });
    expect(pool.take()).not.toBe(a);
    ring.push({ seq: 3, at: 3, rgb: c });
    // a left the ring: it is the next frame's buffer.
    expect(pool.take()).toBe(a);
    expect(ring.between(0, 10).map((f) => f.rgb)).toEqual([b, c]);
  });

  it('does not reuse a frame while someone reads it, and does once they are done', () => {
    const pool = new FramePool(BYTES);
    const ring = new FrameRing(1, pool);
    const a = pool.take();
    ring.push({ seq: 1, at: 1, rgb: a });
    const release = ring.hold(ring.between(0, 10));
    const again = ring.hold([ring.at(1)!]);
    ring.push({ seq: 2, at: 2, rgb: pool.take() });
    expect(pool.take()).not.toBe(a);
    release();
    release();
    expect(pool.take()).not.toBe(a);
    again();
    expect(pool.take()).toBe(a);
  });

  it('a held frame that is still in the ring is not reused when released', () => {
    const pool = new FramePool(BYTES);
    const ring = new FrameRing(3, pool);
    const a = pool.take();
    ring.push({ seq: 1, at: 1, rgb: a });
    ring.hold([ring.at(1)!])();
    expect(pool.take()).not.toBe(a);
  });

  it('ignores buffers of another size, and a ring without a pool holds nothing', () => {
    const pool = new FramePool(BYTES);
    pool.recycle(Buffer.alloc(BYTES + 1));
    expect(pool.take().length).toBe(BYTES);
    const ring = new FrameRing(1);
    ring.push({ seq: 1, at: 1, rgb: Buffer.alloc(BYTES) });
    expect(() => ring.hold(ring.between(0, 10))()).not.toThrow();
  });
});
