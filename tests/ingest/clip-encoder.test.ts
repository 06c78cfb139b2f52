import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
    while (encoder.ffmpegRuns < 1) await new Promise((r) => setTimeout(r, 5));
    // Not a buffer: its write fails while the first clip is being encoded, and the failure waits for its turn.
    const failed = expect(encoder.encode([frame(0), 42 as unknown as Buffer], 64, 48, 5)).rejects.toThrow(/argument/);
    await failed;
    expect((await first).subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect((await encoder.encode([frame(0), frame(10)], 64, 48, 5)).subarray(4, 8).toString('latin1')).toBe('ftyp');
  });

  describe('its spool folder', () => {
    const tmp = process.env.TMPDIR;
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'clip-spool-test-'));
      process.env.TMPDIR = dir;
    });
    afterEach(() => {
      if (tmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmp;
      rmSync(dir, { recursive: true, force: true });
    });

    it('removes the folders of processes that no longer run, keeps those of running ones, and its own on close', async () => {
      const gone = spawnSync('true').pid!;
      mkdirSync(path.join(dir, `sw-clips-${gone}-abc`, 'clip-1'), { recursive: true });
      writeFileSync(path.join(dir, `sw-clips-${gone}-abc`, 'clip-1', 'frames.rgb'), Buffer.alloc(1000));
      mkdirSync(path.join(dir, 'sw-clips-1-def'));
      encoder = new ClipEncoder();
      await encoder.encode([frame(0), frame(10)], 64, 48, 5);
      const left = readdirSync(dir);
      expect(left).toHaveLength(2);
      expect(left).toEqual(expect.arrayContaining(['sw-clips-1-def', expect.stringMatching(new RegExp(`^sw-clips-${process.pid}-`))]));
      await encoder.close();
      expect(readdirSync(dir)).toEqual(['sw-clips-1-def']);
    });

    it('makes its folder again when the temp directory was not there for the first clip', async () => {
      process.env.TMPDIR = path.join(dir, 'not-yet');
      encoder = new ClipEncoder();
      await expect(encoder.encode([frame(0), frame(10)], 64, 48, 5)).rejects.toThrow(/ENOENT/);
      mkdirSync(path.join(dir, 'not-yet'));
      expect((await encoder.encode([frame(0), frame(10)], 64, 48, 5)).subarray(4, 8).toString('latin1')).toBe('ftyp');
    });
  });

  it('encodes the clips waiting behind the current one in one ffmpeg run, and one bad clip fails only itself', async () => {
    encoder = new ClipEncoder();
    const frames = Array.from({ length: 10 }, (_, i) => frame(i * 5));
    const big = Array.from({ length: 30 }, () => Buffer.alloc(320 * 240 * 3, 90));
    const encoding = async (runs: number) => {
      while (encoder.ffmpegRuns < runs) await new Promise((r) => setTimeout(r, 5));
    };
    const first = encoder.encode(big, 320, 240, 5);
    await encoding(1);
    const waiting = [encoder.encode(frames, 64, 48, 5), encoder.encode(frames.slice(0, 4), 64, 48, 5), encoder.encode(frames.slice(0, 6), 64, 48, 5)];
    const [a, b, c, d] = await Promise.all([first, ...waiting]);
    expect(encoder.ffmpegRuns).toBe(2);
    for (const mp4 of [a, b, c, d]) expect(mp4.subarray(4, 8).toString('latin1')).toBe('ftyp');
    // Each output is its own clip: the longer one is the larger file.
    expect(b.length).toBeGreaterThan(c.length);

    const next = encoder.encode(big, 320, 240, 5);
    await encoding(3);
    const good = encoder.encode(frames, 64, 48, 5);
    const bad = encoder.encode([Buffer.alloc(10)], 0, 0, 5);
    const alsoGood = encoder.encode(frames.slice(0, 4), 64, 48, 5);
    await expect(bad).rejects.toThrow(/ffmpeg could not encode the clip/);
    for (const mp4 of await Promise.all([next, good, alsoGood])) expect(mp4.subarray(4, 8).toString('latin1')).toBe('ftyp');
    // The big clip, the three together (refused), then each of them alone.
    expect(encoder.ffmpegRuns).toBe(2 + 1 + 1 + 3);
  });

  it('refuses empty clips and work after close', async () => {
    encoder = new ClipEncoder();
    await expect(encoder.encode([], 64, 48, 5)).rejects.toThrow(/no frames/);
    await encoder.close();
    await expect(encoder.encode([frame(0)], 64, 48, 5)).rejects.toThrow(/closed/);
  });
});
