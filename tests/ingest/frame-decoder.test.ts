import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSkywatchError } from '../../core/errors.js';
import { decodeFrames, probeVideo } from '../../ingest/frame-decoder.js';
import { startHttpVideoServer } from '../../bench/support/http-video-server.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sw-decode-'));
const REAL = path.resolve('../shared/data/videos/drone');

function testsrc(seconds: number): string {
  const file = path.join(dir, `testsrc-${seconds}.mp4`);
  execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc=size=160x120:rate=25:duration=${seconds}`, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', file]);
  return file;
}

async function collect(it: AsyncIterable<{ data: Buffer; width: number; height: number; index: number; ptsMs: number; waiting: number }>) {
  const out = [];
  for await (const f of it) out.push(f);
  return out;
}

describe('decodeFrames', () => {
  it('samples a clip at the asked fps into exact RGB24 frames, probing the size', async () => {
    const clip = testsrc(2);
    expect(await probeVideo(clip)).toMatchObject({ width: 160, height: 120, fps: 25 });
    const frames = await collect(decodeFrames(clip, { fps: 5 }));
    expect(frames.length).toBe(10);
    expect(frames.map((f) => f.index)).toEqual([...Array(10).keys()]);
    expect(frames[3].ptsMs).toBe(600);
    for (const f of frames) expect(f.data.length).toBe(160 * 120 * 3);
    // testsrc moves: consecutive samples differ.
    expect(frames[0].data.equals(frames[1].data)).toBe(false);
    const scaled = await collect(decodeFrames(clip, { fps: 2, width: 80 }));
    expect(scaled[0]).toMatchObject({ width: 80, height: 60 });
    expect(scaled[0].data.length).toBe(80 * 60 * 3);
  });

  it('probes a file\'s length, and says in ffprobe\'s own words why a source cannot be read', async () => {
    expect((await probeVideo(testsrc(2))).durationMs).toBeCloseTo(2000, -2);
    const web = await startHttpVideoServer({});
    try {
      await expect(probeVideo(web.url('missing.mp4'))).rejects.toThrow(`ffprobe cannot read ${web.url('missing.mp4')}: Server returned 404 Not Found`);
    } finally {
      await web.close();
    }
    const text = path.join(mkdtempSync(path.join(tmpdir(), 'sw-probe-')), 'notes.mp4');
    writeFileSync(text, 'not a video');
    await expect(probeVideo(text)).rejects.toThrow(/: Invalid data found when processing input$/);
  });

  it('gives a slow consumer the same frames as a fast one (reading waits for the consumer)', async () => {
    const clip = testsrc(2);
    const fast = await collect(decodeFrames(clip, { fps: 10 }));
    const slow = [];
    for await (const f of decodeFrames(clip, { fps: 10 })) {
      slow.push(f);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(slow.length).toBe(fast.length);
    slow.forEach((f, i) => expect(f.data.equals(fast[i].data)).toBe(true));
    // Each frame keeps its own pixels after later frames were read.
    expect(new Set(slow.map((f) => f.data.buffer)).size).toBe(slow.length);
  });

  it('reads one frame ahead when asked, says a newer frame is waiting only to a consumer slower than the stream, and gives the same frames', async () => {
    const clip = testsrc(2);
    const fast = await collect(decodeFrames(clip, { fps: 10 }));
    expect(fast.every((f) => f.waiting === 0)).toBe(true);
    const slow = [];
    for await (const f of decodeFrames(clip, { fps: 10, readAhead: 1 })) {
      slow.push(f);
      // Far slower than ffmpeg decodes this clip: the next frame is whole before this one is done.
      await new Promise((r) => setTimeout(r, 60));
    }
    expect(slow.length).toBe(fast.length);
    slow.forEach((f, i) => expect(f.data.equals(fast[i].data)).toBe(true));
    expect(slow.slice(2, -1).filter((f) => f.waiting === 1).length).toBeGreaterThanOrEqual(slow.length - 4);
    expect(Math.max(...slow.map((f) => f.waiting))).toBe(1);
    // The last frame has nothing after it.
    expect(slow.at(-1)!.waiting).toBe(0);
  });

  it('loops a file forever and stops ffmpeg when the consumer stops', async () => {
    const clip = testsrc(1);
    let n = 0;
    for await (const f of decodeFrames(clip, { fps: 10, loop: true })) {
      n = f.index + 1;
      if (n >= 25) break;
    }
    expect(n).toBe(25);
    const controller = new AbortController();
    let m = 0;
    for await (const f of decodeFrames(clip, { fps: 10, loop: true, signal: controller.signal })) {
      m = f.index + 1;
      if (m === 3) controller.abort();
    }
    expect(m).toBeGreaterThanOrEqual(3);
    expect(m).toBeLessThan(30);
  });

  it('reports a file that is not a video', async () => {
    const junk = path.join(dir, 'junk.mp4');
    writeFileSync(junk, 'not a video at all');
    await expect(collect(decodeFrames(junk, { fps: 5 }))).rejects.toSatisfy((err: unknown) => isSkywatchError(err, 'DATA_INVALID'));
  });

  describe.skipIf(!existsSync(REAL))('on a real sky clip (../shared/data/videos)', () => {
    it('decodes 640x512 frames', async () => {
      const clip = path.join(REAL, readdirSync(REAL).filter((f) => f.endsWith('.mp4')).sort()[0]);
      let first: { width: number; height: number; data: Buffer } | null = null;
      for await (const f of decodeFrames(clip, { fps: 2 })) {
        first = f;
        break;
      }
      expect(first).toMatchObject({ width: 640, height: 512 });
      expect(first?.data.length).toBe(640 * 512 * 3);
    });
  });
});
