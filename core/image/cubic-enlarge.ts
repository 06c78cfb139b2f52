/**
 * Enlarging packed RGB24 with the project's cubic kernel, in JavaScript, giving exactly the bytes that
 * sharp gives for `resize(w, h, { fit: 'fill', kernel: 'cubic' })` when both sides grow.
 *
 * Why not sharp: a camera crop is usually 30-100 px and is stretched to the model's 224 px; each sharp
 * call costs about 3.3 ms of CPU across libuv's and libvips' threads for that (bench:streaming put
 * libvips at 0.14 core with 12 cameras), most of it per-call overhead, where the arithmetic itself is
 * well under a millisecond. Training decodes its crops through sharp, so this must not differ by a single
 * byte: tests/core/image/cubic-enlarge.test.ts compares the two on every size class.
 *
 * What sharp does there (sharp 0.35 / libvips 8.18): `vips_resize` with scale = 1 / (in / out) on each
 * axis hands an enlargement to `vips_affine` with the Catmull-Rom "bicubic" interpolator, centre
 * sampling (an input displacement of half a pixel) and the edge pixels repeated outwards. For 8-bit
 * pixels the interpolator takes its weights from a table of 65 sub-pixel positions, as integers scaled
 * by 4096 (truncated), rounds each row's sum back to pixel scale, then the column's sum, and clips to
 * 0-255. The positions are stepped along a row by adding the inverse scale, in doubles, as libvips
 * does, so the same sub-pixel positions (and so the same bytes) come out.
 */

/** Sub-pixel positions of the weight table (libvips' VIPS_TRANSFORM_SCALE). */
const POSITIONS = 64;
/** Fixed-point weights: 12 fractional bits (VIPS_INTERPOLATE_SHIFT). */
const SHIFT = 12;
const ROUND = 1 << (SHIFT - 1);

/** Catmull-Rom weights of the four taps at each of the 65 positions, as libvips computes and truncates them. */
const WEIGHTS: Int32Array = (() => {
  const table = new Int32Array((POSITIONS + 1) * 4);
  for (let i = 0; i <= POSITIONS; i++) {
    // The position goes through a float, as libvips' table builder passes it.
    const x = Math.fround(i / POSITIONS);
    const cr1 = 1 - x;
    const cr2 = -0.5 * x;
    const cr3 = cr1 * cr2;
    const cone = cr1 * cr3;
    const cfou = x * cr3;
    const cr4 = cfou - cone;
    const ctwo = cr1 - cone + cr4;
    const cthr = x - cfou - cr4;
    table[i * 4] = Math.trunc(cone * (1 << SHIFT));
    table[i * 4 + 1] = Math.trunc(ctwo * (1 << SHIFT));
    table[i * 4 + 2] = Math.trunc(cthr * (1 << SHIFT));
    table[i * 4 + 3] = Math.trunc(cfou * (1 << SHIFT));
  }
  return table;
})();

/** True when `cubicEnlarge` gives sharp's bytes for this resize: both sides strictly grow. */
export function canCubicEnlarge(width: number, height: number, to: { width: number; height: number }): boolean {
  return width >= 1 && height >= 1 && to.width > width && to.height > height;
}

interface AxisTaps {
  /** The four source indices each output position reads, clamped to the image (edges repeat outwards). */
  source: Int32Array;
  /** The four weights of each output position (fixed point). */
  weight: Int32Array;
}

/**
 * Where each output position along one axis reads, as libvips' affine finds it. The input is embedded
 * with 2 pixels of border, so a position p in that space is source coordinate p - 2; the stencil starts
 * one pixel before trunc(p); the sub-pixel index is the fraction of p rounded to 1/64.
 */
function axisTaps(positionAt: (i: number) => number, inSize: number, outSize: number): AxisTaps {
  const source = new Int32Array(outSize * 4);
  const weight = new Int32Array(outSize * 4);
  for (let i = 0; i < outSize; i++) {
    const p = positionAt(i);
    const sub = ((Math.trunc(p * POSITIONS * 2) & (POSITIONS * 2 - 1)) + 1) >> 1;
    const first = Math.trunc(p) - 3;
    for (let k = 0; k < 4; k++) {
      source[i * 4 + k] = Math.min(inSize - 1, Math.max(0, first + k));
      weight[i * 4 + k] = WEIGHTS[sub * 4 + k];
    }
  }
  return { source, weight };
}

/** The taps of both axes for one resize (libvips' transform of a diagonal matrix, inverted as it inverts it). */
function resizeTaps(width: number, height: number, to: { width: number; height: number }): { x: AxisTaps; y: AxisTaps } {
  // sharp: shrink = in / out, and vips_resize gets scale = 1 / shrink.
  const hscale = 1 / (width / to.width);
  const vscale = 1 / (height / to.height);
  const inverseDet = 1 / (hscale * vscale);
  const ia = inverseDet * vscale;
  const id = inverseDet * hscale;
  // vips_resize's input displacement is half a pixel on both axes in libvips 8.18 (later versions
  // scale it by the factor), less the one-pixel border that affine adds and takes back.
  const idx = 0.5 - 1;
  const idy = 0.5 - 1;
  // Along a row, affine adds ia at each step from the strip's left edge (0: strips span the width).
  let px = -idx + 1;
  const x = axisTaps(() => {
    const p = px;
    px += ia;
    return p;
  }, width, to.width);
  const y = axisTaps((row) => id * row - idy + 1, height, to.height);
  return { x, y };
}

const tapCache = new Map<string, { x: AxisTaps; y: AxisTaps }>();
/** The horizontal pass's rows, reused by every call. */
let rowScratch = new Int32Array(0);

/**
 * `rgb` (packed RGB24, `width` x `height`) enlarged to `to`; both sides must grow (canCubicEnlarge).
 * Written into `into` when given (at least to.width * to.height * 3 bytes: a caller's scratch buffer;
 * the result is then a view of its start), else into a new Buffer.
 */
export function cubicEnlarge(rgb: Uint8Array, width: number, height: number, to: { width: number; height: number }, into?: Uint8Array): Buffer {
  if (!canCubicEnlarge(width, height, to)) throw new RangeError(`cubicEnlarge only enlarges: ${width}x${height} -> ${to.width}x${to.height}`);
  if (rgb.length !== width * height * 3) throw new RangeError(`expected ${width * height * 3} RGB bytes for ${width}x${height}, got ${rgb.length}`);
  const key = `${width}x${height}>${to.width}x${to.height}`;
  let taps = tapCache.get(key);
  if (!taps) {
    taps = resizeTaps(width, height, to);
    // Crops come in a few hundred sizes; the tables are small (20 bytes an output position).
    if (tapCache.size >= 1024) tapCache.clear();
    tapCache.set(key, taps);
  }
  const outW = to.width;
  const outH = to.height;
  if (into && into.length < outW * outH * 3) throw new RangeError(`the output holds ${into.length} bytes, ${outW * outH * 3} are needed`);
  // Horizontal pass: every source row at every output column, rounded as libvips rounds each row's sum.
  // Into a scratch kept between calls (the function is synchronous): a new array per crop would be
  // up to 600 KB more for the garbage collector on the cameras' hot path.
  if (rowScratch.length < height * outW * 3) rowScratch = new Int32Array(height * outW * 3);
  const rows = rowScratch;
  const xs = taps.x;
  for (let r = 0; r < height; r++) {
    const src = r * width * 3;
    let o = r * outW * 3;
    for (let i = 0; i < outW; i++, o += 3) {
      // Taps and weights of this column, then the three channels of its four source pixels.
      const t = i * 4;
      const a = src + 3 * xs.source[t];
      const b = src + 3 * xs.source[t + 1];
      const c = src + 3 * xs.source[t + 2];
      const d = src + 3 * xs.source[t + 3];
      const wx = xs.weight;
      for (let ch = 0; ch < 3; ch++) {
        rows[o + ch] = (wx[t] * rgb[a + ch] + wx[t + 1] * rgb[b + ch] + wx[t + 2] * rgb[c + ch] + wx[t + 3] * rgb[d + ch] + ROUND) >> SHIFT;
      }
    }
  }
  // Vertical pass over the rounded rows, then the clip to 8 bits.
  const out = into ? Buffer.from(into.buffer, into.byteOffset, outW * outH * 3) : Buffer.allocUnsafe(outW * outH * 3);
  const ys = taps.y;
  const stride = outW * 3;
  for (let j = 0; j < outH; j++) {
    const t = j * 4;
    const wy = ys.weight;
    const c0 = wy[t];
    const c1 = wy[t + 1];
    const c2 = wy[t + 2];
    const c3 = wy[t + 3];
    const a = stride * ys.source[t];
    const b = stride * ys.source[t + 1];
    const c = stride * ys.source[t + 2];
    const d = stride * ys.source[t + 3];
    const o = j * stride;
    for (let k = 0; k < stride; k++) {
      const v = (c0 * rows[a + k] + c1 * rows[b + k] + c2 * rows[c + k] + c3 * rows[d + k] + ROUND) >> SHIFT;
      out[o + k] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}
