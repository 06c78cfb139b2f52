import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { i420BoxToRgb, i420Bytes, i420ToRgb, rgbToI420 } from '../../core/image/i420.js';

const CLIP = path.resolve('../shared/data/videos/drone/V_DRONE_002.mp4');

/** One frame of a real clip as ffmpeg writes it in the given pixel format. */
function ffmpegFrame(pixFmt: 'yuv420p' | 'rgb24'): Buffer {
  return execFileSync('ffmpeg', ['-loglevel', 'error', '-i', CLIP, '-vf', 'select=eq(n\\,30)', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', pixFmt, '-'], { maxBuffer: 8 << 20 });
}

describe('I420 frames (the decoder output every frame travels as)', () => {
  it('converts a real camera frame to exactly the RGB ffmpeg itself gives', () => {
    const yuv = ffmpegFrame('yuv420p');
    const reference = ffmpegFrame('rgb24');
    expect(yuv.length).toBe(i420Bytes(640, 512));
    expect(i420ToRgb(yuv, 640, 512).equals(reference)).toBe(true);
  });

  it('matches ffmpeg on every luma value against a grid of chroma values, saturation included', () => {
    // 512x512: each 2x2 block one (U, V) of a 32x32 grid, its four pixels four consecutive Y values.
    const w = 512;
    const h = 512;
    const yuv = Buffer.alloc(i420Bytes(w, h));
    const cw = w / 2;
    for (let block = 0; block < cw * (h / 2); block++) {
      const bx = block % cw;
      const by = Math.floor(block / cw);
      yuv[w * h + block] = ((block % 1024) >> 5) * 8;
      yuv[w * h + cw * (h / 2) + block] = (block % 32) * 8;
      const y0 = (Math.floor(block / 1024) * 4) % 256;
      yuv[2 * by * w + 2 * bx] = y0;
      yuv[2 * by * w + 2 * bx + 1] = y0 + 1;
      yuv[(2 * by + 1) * w + 2 * bx] = y0 + 2;
      yuv[(2 * by + 1) * w + 2 * bx + 1] = y0 + 3;
    }
    const reference = execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${w}x${h}`, '-i', '-', '-vf', `scale=${w}:${h}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { input: yuv, maxBuffer: 8 << 20 });
    const rgb = i420ToRgb(yuv, w, h);
    let differ = 0;
    for (let i = 0; i < rgb.length; i++) if (rgb[i] !== reference[i]) differ++;
    expect(differ).toBe(0);
  });

  it('cuts a box with the same pixels as the whole-frame conversion, and only boxes inside the frame', () => {
    const yuv = ffmpegFrame('yuv420p');
    const whole = i420ToRgb(yuv, 640, 512);
    // An odd corner and size: the chroma sample is shared by 2x2 pixels, whatever the box's parity.
    const box = { x: 101, y: 37, width: 33, height: 21 };
    const cut = i420BoxToRgb(yuv, 640, 512, box);
    for (let y = 0; y < box.height; y++) {
      const start = ((box.y + y) * 640 + box.x) * 3;
      expect(cut.subarray(y * box.width * 3, (y + 1) * box.width * 3).equals(whole.subarray(start, start + box.width * 3))).toBe(true);
    }
    expect(() => i420BoxToRgb(yuv, 640, 512, { x: 620, y: 0, width: 40, height: 10 })).toThrow(RangeError);
    expect(() => i420ToRgb(yuv.subarray(1), 640, 512)).toThrow(/bytes of I420/);
    expect(() => i420ToRgb(Buffer.alloc(i420Bytes(2, 2)), 3, 2)).toThrow(/even size/);
  });

  it('round-trips RGB through I420 with colours intact (uploaded .npz clips take this way in)', () => {
    const rgb = Buffer.alloc(8 * 4 * 3);
    const colours = [[200, 40, 40], [40, 200, 40], [40, 40, 200], [128, 128, 128]];
    // Each 2x2 block one colour, so chroma subsampling loses nothing.
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) rgb.set(colours[(Math.floor(x / 2) + 4 * Math.floor(y / 2)) % 4], (y * 8 + x) * 3);
    const back = i420ToRgb(rgbToI420(rgb, 8, 4), 8, 4);
    for (let i = 0; i < rgb.length; i++) expect(Math.abs(back[i] - rgb[i])).toBeLessThanOrEqual(3);
  });
});
