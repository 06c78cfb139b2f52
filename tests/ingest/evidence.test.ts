import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { snapshotJpeg } from '../../ingest/evidence.js';

const W = 320;
const H = 240;

/** A mid-grey sky, so the marks' colours stand out after JPEG. */
function sky(): Buffer {
  return Buffer.alloc(W * H * 3, 128);
}

async function decode(jpeg: Buffer): Promise<{ at: (x: number, y: number) => [number, number, number] }> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  expect([info.width, info.height, info.channels]).toEqual([W, H, 3]);
  return { at: (x, y) => [data[(y * W + x) * 3], data[(y * W + x) * 3 + 1], data[(y * W + x) * 3 + 2]] };
}

const near = (got: [number, number, number], want: [number, number, number], tolerance: number) => got.every((v, i) => Math.abs(v - want[i]) <= tolerance);
/** JPEG's colour subsampling blurs a 2-pixel line's colour into the grey around it: its hue is what survives. */
const red = ([r, g, b]: [number, number, number]) => r > g + 50 && r > b + 50;
const yellow = ([r, g, b]: [number, number, number]) => r > b + 60 && g > b + 40;

describe('snapshotJpeg: the alert picture with its box, path and caption drawn into the pixels', () => {
  it('draws the box red, the path yellow and the label above the box, and leaves the frame it was given alone', async () => {
    const frame = sky();
    const before = Buffer.from(frame);
    const box = { x: 120, y: 100, width: 60, height: 40 };
    const path = [{ x: 20, y: 200 }, { x: 100, y: 200 }];
    const pic = await decode(await snapshotJpeg(frame, W, H, box, path, 'drone 97%'));
    expect(frame.equals(before)).toBe(true);
    // The middle of each side of the box, the inside left as it was.
    for (const [x, y] of [[150, 100], [150, 140], [120, 120], [180, 120]]) expect(red(pic.at(x, y)), `box at ${x},${y}: ${pic.at(x, y)}`).toBe(true);
    expect(near(pic.at(150, 120), [128, 128, 128], 6)).toBe(true);
    // The path along y = 200 from x = 20 to 100; nothing past its end.
    for (const x of [30, 60, 90]) expect(yellow(pic.at(x, 200)), `path at ${x}: ${pic.at(x, 200)}`).toBe(true);
    expect(near(pic.at(140, 200), [128, 128, 128], 6)).toBe(true);
    // The caption: red ink in the band just above the box, from its left edge; none above that band.
    let ink = 0;
    for (let y = 80; y < 96; y++) for (let x = 120; x < 220; x++) if (red(pic.at(x, y))) ink++;
    expect(ink).toBeGreaterThan(50);
    let stray = 0;
    for (let y = 0; y < 70; y++) for (let x = 0; x < W; x++) if (!near(pic.at(x, y), [128, 128, 128], 12)) stray++;
    expect(stray).toBe(0);
  });

  it('keeps marks near the edges inside the frame, and makes a plain JPEG without a box', async () => {
    const pic = await decode(await snapshotJpeg(sky(), W, H, { x: 0, y: 0, width: W, height: H }, [{ x: -50, y: -50 }, { x: W + 50, y: H + 50 }], 'bird'));
    // Half of each side's stroke lies outside the frame: the half inside is drawn.
    expect(red(pic.at(0, 120)), `${pic.at(0, 120)}`).toBe(true);
    expect(red(pic.at(W - 1, 120)), `${pic.at(W - 1, 120)}`).toBe(true);
    const plain = await decode(await snapshotJpeg(sky(), W, H, null, [], 'drone'));
    expect(near(plain.at(160, 120), [128, 128, 128], 4)).toBe(true);
  });
});
