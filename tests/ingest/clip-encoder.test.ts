import { afterEach, describe, expect, it } from 'vitest';
import { ClipEncoder } from '../../ingest/clip-encoder.js';

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
    const skipped = encoder.encode(frames, 64, 48, 5, superseded.signal);
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

  it('refuses empty clips and work after close', async () => {
    encoder = new ClipEncoder();
    await expect(encoder.encode([], 64, 48, 5)).rejects.toThrow(/no frames/);
    await encoder.close();
    await expect(encoder.encode([frame(0)], 64, 48, 5)).rejects.toThrow(/closed/);
  });
});
