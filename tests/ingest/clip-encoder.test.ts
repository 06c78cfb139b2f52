import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ClipEncoder, ClipRefused } from '../../ingest/clip-encoder.js';

/** A 64x48 frame with a bright square at x (the clip shows it moving). */
function frame(x: number): Buffer {
  const w = 64;
  const h = 48;
  const rgb = Buffer.alloc(w * h * 3, 40);
  for (let y = 10; y < 20; y++) for (let i = x; i < x + 10; i++) rgb.fill(230, (y * w + i) * 3, (y * w + i) * 3 + 3);
  return rgb;
}

describe('ClipEncoder (evidence clips in a helper process)', () => {
  let encoder: ClipEncoder;
  afterEach(async () => encoder?.close());

  it('encodes raw frames into a browser-playable MP4, clip after clip with one helper process', async () => {
    encoder = new ClipEncoder();
    const frames = Array.from({ length: 10 }, (_, i) => frame(i * 5));
    const [a, b] = await Promise.all([encoder.encode(frames, 64, 48, 5), encoder.encode(frames.slice(0, 4), 64, 48, 5)]);
    for (const mp4 of [a, b]) {
      expect(mp4.subarray(4, 8).toString('latin1')).toBe('ftyp');
      // moov first (faststart): a browser can play it before the whole file arrives.
      expect(mp4.indexOf('moov')).toBeLessThan(mp4.indexOf('mdat'));
    }
    expect(a.length).toBeGreaterThan(b.length);
  });

  it('reports what ffmpeg refused, and keeps working after its helper process dies', async () => {
    encoder = new ClipEncoder();
    await expect(encoder.encode([Buffer.alloc(10)], 0, 0, 5)).rejects.toThrow(/ffmpeg could not encode the clip/);
    const child = (encoder as unknown as { child: { pid: number } | null }).child;
    expect(child).not.toBeNull();
    process.kill(child!.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const mp4 = await encoder.encode([frame(0), frame(10)], 64, 48, 5);
    expect(mp4.subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it('skips a clip whose signal aborts while it waits its turn, and encodes the rest in order', async () => {
    encoder = new ClipEncoder();
    const frames = Array.from({ length: 10 }, (_, i) => frame(i * 5));
    const superseded = new AbortController();
    const first = encoder.encode(frames, 64, 48, 5);
    const skipped = encoder.encode(frames, 64, 48, 5, { signal: superseded.signal });
    const last = encoder.encode(frames.slice(0, 4), 64, 48, 5);
    expect(encoder.queued).toBe(2);
    superseded.abort(new Error('superseded by the closing clip'));
    await expect(skipped).rejects.toThrow('superseded by the closing clip');
    for (const mp4 of await Promise.all([first, last])) expect(mp4.subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it('times each clip from the start of its encoding, not from when it was queued behind others', async () => {
    const big = Array.from({ length: 20 }, () => Buffer.alloc(320 * 240 * 3, 90).fill(200, 0, 320 * 40 * 3));
    const probe = new ClipEncoder();
    let t = Date.now();
    await probe.encode(big, 320, 240, 5);
    const firstMs = Date.now() - t;
    t = Date.now();
    await probe.encode(big, 320, 240, 5);
    const nextMs = Date.now() - t;
    await probe.close();
    // Each clip gets several times what one takes; twelve queued at once take far longer than that.
    const timeoutMs = Math.max(4 * nextMs, 2 * firstMs);
    encoder = new ClipEncoder({ timeoutMs });
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => encoder.encode(big, 320, 240, 5)));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
  }, 60_000);

  it('lets the caller reuse a clip\'s frame buffers once they are written out, long before its turn', async () => {
    encoder = new ClipEncoder();
    const big = Array.from({ length: 30 }, () => Buffer.alloc(320 * 240 * 3, 90));
    const bright = Array.from({ length: 6 }, () => Buffer.alloc(64 * 48 * 3, 220));
    const order: string[] = [];
    const first = encoder.encode(big, 320, 240, 5).then((mp4) => (order.push('first encoded'), mp4));
    const second = encoder.encode(bright, 64, 48, 5, {
      framesRead: () => {
        order.push('second read');
        // The camera writes new frames into these buffers: the clip must still show what was asked for.
        for (const b of bright) b.fill(0);
      },
    });
    const [, mp4] = await Promise.all([first, second]);
    expect(order).toEqual(['second read', 'first encoded']);
    const decoded = spawnSync('ffmpeg', ['-loglevel', 'error', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { input: mp4 }).stdout;
    expect(decoded.length).toBeGreaterThan(0);
    expect(decoded.reduce((a, v) => a + v, 0) / decoded.length).toBeGreaterThan(180);
  });

  it('refuses clips once too many wait, optional ones sooner, and still encodes those it took', async () => {
    encoder = new ClipEncoder({ maxQueued: 2, maxQueuedOptional: 1 });
    const frames = Array.from({ length: 10 }, (_, i) => frame(i * 5));
    const taken = [encoder.encode(frames, 64, 48, 5)]; // being encoded: not waiting
    taken.push(encoder.encode(frames, 64, 48, 5)); // 1 waiting
    const optional = encoder.encode(frames, 64, 48, 5, { optional: true });
    await expect(optional).rejects.toBeInstanceOf(ClipRefused);
    await expect(optional).rejects.toMatchObject({ optional: true });
    taken.push(encoder.encode(frames, 64, 48, 5)); // 2 waiting
    const released: number[] = [];
    const refused = encoder.encode(frames, 64, 48, 5, { framesRead: () => released.push(1) });
    await expect(refused).rejects.toMatchObject({ name: 'ClipRefused', optional: false, message: expect.stringMatching(/2 clips already wait/) });
    expect(encoder.queued).toBe(2);
    for (const mp4 of await Promise.all(taken)) expect(mp4.subarray(4, 8).toString('latin1')).toBe('ftyp');
    // Nothing was read from a refused clip's frames, so there was nothing to hand back either.
    expect(released).toEqual([]);
  });

  it('fails a clip whose frames cannot be written out, without disturbing the clip being encoded', async () => {
    encoder = new ClipEncoder();
    const big = Array.from({ length: 30 }, () => Buffer.alloc(320 * 240 * 3, 90));
    const first = encoder.encode(big, 320, 240, 5);
    const tmp = process.env.TMPDIR;
    process.env.TMPDIR = '/nonexistent-skywatch-spool';
    let failed: Promise<Buffer>;
    try {
      failed = encoder.encode([frame(0), frame(10)], 64, 48, 5);
    } finally {
      if (tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmp;
    }
    // Its write fails while the first clip is still being encoded; the failure waits for its turn.
    await new Promise((r) => setTimeout(r, 50));
    await expect(failed).rejects.toThrow(/ENOENT/);
    expect((await first).subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect((await encoder.encode([frame(0), frame(10)], 64, 48, 5)).subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  it('refuses empty clips and work after close', async () => {
    encoder = new ClipEncoder();
    await expect(encoder.encode([], 64, 48, 5)).rejects.toThrow(/no frames/);
    await encoder.close();
    await expect(encoder.encode([frame(0)], 64, 48, 5)).rejects.toThrow(/closed/);
  });
});
