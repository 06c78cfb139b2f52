/**
 * Frames travel through Skywatch as I420 (ffmpeg's yuv420p: a full-resolution Y plane, then U and V at
 * half width and half height). That is what cameras and video files carry, so ffmpeg hands it over
 * without a colour conversion, in half the bytes of RGB24; motion reads the Y plane as it is, and only
 * the few pixels that reach a model or a picture (crops, snapshots) are converted to RGB, here, by the
 * one conversion that live crops and training crops share.
 *
 * The conversion is BT.601 with limited range and each chroma sample shared by its 2x2 pixels, in
 * the same 16-bit fixed point as ffmpeg's own yuv420p -> rgb24 on x86 (each term scaled by 8, multiplied
 * by its coefficient in 1/8192 and truncated by 16 bits, then summed): bit for bit what the decoder gave
 * when it converted to RGB itself (262,144 Y/U/V combinations and a real frame compared in
 * tests/core/i420.test.ts), so models trained on frames decoded either way see the same crops.
 */

/** Bytes of an I420 frame. Width and height must be even (the decoder makes them so). */
export function i420Bytes(width: number, height: number): number {
  return width * height + 2 * (width / 2) * (height / 2);
}

/** The largest even size not over `n` (at least 2): I420 needs whole chroma samples. */
export function evenSize(n: number): number {
  return Math.max(2, Math.floor(n / 2) * 2);
}

function checkFrame(frame: Uint8Array, width: number, height: number): void {
  if (width % 2 !== 0 || height % 2 !== 0 || width < 2 || height < 2) throw new RangeError(`an I420 frame needs an even size, got ${width}x${height}`);
  if (frame.length !== i420Bytes(width, height)) throw new RangeError(`expected ${i420Bytes(width, height)} bytes of I420 for ${width}x${height}, got ${frame.length}`);
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** ffmpeg's x86 arithmetic: (8 * value - offset) times a coefficient in 1/8192, keeping the top 16 bits. */
function term(value: number, offset: number, coefficient: number): number {
  return (((value << 3) - offset) * Math.round(coefficient * 8192)) >> 16;
}

// BT.601 limited range: luma 255/219, chroma 255/224 times 2(1 - Kr), 2(1 - Kb) and the green mixes.
const KR = 0.299;
const KB = 0.114;
const CHROMA = 255 / 224;
const LUMA = Int32Array.from({ length: 256 }, (_, y) => term(y, 128, 255 / 219));
const R_V = Int32Array.from({ length: 256 }, (_, v) => term(v, 1024, 2 * (1 - KR) * CHROMA));
const B_U = Int32Array.from({ length: 256 }, (_, u) => term(u, 1024, 2 * (1 - KB) * CHROMA));
const G_U = Int32Array.from({ length: 256 }, (_, u) => term(u, 1024, -((2 * (1 - KB) * KB) / (1 - KR - KB)) * CHROMA));
const G_V = Int32Array.from({ length: 256 }, (_, v) => term(v, 1024, -((2 * (1 - KR) * KR) / (1 - KR - KB)) * CHROMA));

/** RGB24 of a box of an I420 frame (the box must lie inside the frame). */
export function i420BoxToRgb(frame: Uint8Array, width: number, height: number, box: { x: number; y: number; width: number; height: number }): Buffer {
  checkFrame(frame, width, height);
  if (box.x < 0 || box.y < 0 || box.width < 1 || box.height < 1 || box.x + box.width > width || box.y + box.height > height) {
    throw new RangeError(`box ${box.width}x${box.height}+${box.x}+${box.y} is not inside a ${width}x${height} frame`);
  }
  const out = Buffer.allocUnsafe(box.width * box.height * 3);
  // A clamped view stores 0..255 without a branch per channel (whole frames go through here for snapshots).
  const px = new Uint8ClampedArray(out.buffer, out.byteOffset, out.length);
  const cw = width / 2;
  const uPlane = width * height;
  const vPlane = uPlane + cw * (height / 2);
  let o = 0;
  for (let y = box.y, yEnd = box.y + box.height; y < yEnd; y++) {
    const row = y * width;
    const chromaRow = (y >> 1) * cw;
    for (let x = box.x, xEnd = box.x + box.width; x < xEnd; x++) {
      const c = LUMA[frame[row + x]];
      const u = frame[uPlane + chromaRow + (x >> 1)];
      const v = frame[vPlane + chromaRow + (x >> 1)];
      px[o++] = c + R_V[v];
      px[o++] = c + G_U[u] + G_V[v];
      px[o++] = c + B_U[u];
    }
  }
  return out;
}

/** RGB24 of a whole I420 frame (snapshots, previews: made per alert, never per frame). */
export function i420ToRgb(frame: Uint8Array, width: number, height: number): Buffer {
  return i420BoxToRgb(frame, width, height, { x: 0, y: 0, width, height });
}

/**
 * I420 of an RGB24 image of even size (frames that arrive as RGB, such as an uploaded .npz clip, join
 * the same path as decoded video). Chroma is the mean of each 2x2 block.
 */
export function rgbToI420(rgb: Uint8Array, width: number, height: number): Buffer {
  if (width % 2 !== 0 || height % 2 !== 0) throw new RangeError(`an I420 frame needs an even size, got ${width}x${height}`);
  if (rgb.length !== width * height * 3) throw new RangeError(`expected ${width * height * 3} bytes of RGB for ${width}x${height}, got ${rgb.length}`);
  const out = Buffer.allocUnsafe(i420Bytes(width, height));
  const cw = width / 2;
  const uPlane = width * height;
  const vPlane = uPlane + cw * (height / 2);
  for (let i = 0, p = 0; i < width * height; i++, p += 3) {
    out[i] = clamp(((66 * rgb[p] + 129 * rgb[p + 1] + 25 * rgb[p + 2] + 128) >> 8) + 16);
  }
  for (let cy = 0; cy < height / 2; cy++) {
    for (let cx = 0; cx < cw; cx++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let dy = 0; dy < 2; dy++) {
        for (let dx = 0; dx < 2; dx++) {
          const p = ((2 * cy + dy) * width + 2 * cx + dx) * 3;
          r += rgb[p];
          g += rgb[p + 1];
          b += rgb[p + 2];
        }
      }
      r /= 4;
      g /= 4;
      b /= 4;
      out[uPlane + cy * cw + cx] = clamp(Math.round((-38 * r - 74 * g + 112 * b) / 256 + 128));
      out[vPlane + cy * cw + cx] = clamp(Math.round((112 * r - 94 * g - 18 * b) / 256 + 128));
    }
  }
  return out;
}
