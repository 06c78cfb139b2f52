import { WasmLayout, wasmModule } from '../wasm-module.js';

/**
 * Enlarging packed RGB24 with the project's cubic kernel, here (the tables in TypeScript, the two
 * passes in WebAssembly SIMD: cubic-enlarge.wat), giving exactly the bytes that sharp gives for
 * `resize(w, h, { fit: 'fill', kernel: 'cubic' })` when both sides grow.
 *
 * Why not sharp: a camera crop is usually 30-100 px and is stretched to the model's 224 px; each sharp
 * call costs about 3.3 ms of CPU across libuv's and libvips' threads for that (bench:streaming put
 * libvips at 0.14 core with 12 cameras), most of it per-call overhead; the same passes in TypeScript
 * took 1.1-2.2 ms a crop, and in WebAssembly SIMD take 0.1-0.2 ms (npm run bench:pixels). Training
 * decodes its crops through sharp, so this must not differ by a single byte:
 * tests/core/image/cubic-enlarge.test.ts compares the two on every size class.
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
/** Fixed-point weights: 12 fractional bits (VIPS_INTERPOLATE_SHIFT; cubic-enlarge.wat shifts by the same). */
const SHIFT = 12;

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

/** The taps of one resize as the kernel reads them: byte offsets and weights, four per output position. */
interface KernelTaps {
  /** Byte offset in a source row of each column's four source pixels. */
  xs: Int32Array;
  xw: Int32Array;
  /** Byte offset in the horizontal pass's rows (int32, outW x 3 a row) of each output row's four rows. */
  ys: Int32Array;
  yw: Int32Array;
}

function kernelTaps(width: number, height: number, to: { width: number; height: number }): KernelTaps {
  const { x, y } = resizeTaps(width, height, to);
  return { xs: x.source.map((s) => s * 3), xw: x.weight, ys: y.source.map((s) => s * to.width * 3 * 4), yw: y.weight };
}

const tapCache = new Map<string, KernelTaps>();

interface EnlargeExports {
  memory: WebAssembly.Memory;
  enlarge(src: number, w: number, h: number, outW: number, outH: number, xs: number, xw: number, ys: number, yw: number, rows: number, out: number): void;
}

/** One instance for the process (the function is synchronous, so calls never overlap); its memory grows to the largest resize seen. */
let kernel: EnlargeExports | null = null;

function enlargeKernel(): EnlargeExports {
  kernel ??= new WebAssembly.Instance(wasmModule(new URL('./cubic-enlarge.wasm', import.meta.url)), {}).exports as unknown as EnlargeExports;
  return kernel;
}

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
    taps = kernelTaps(width, height, to);
    // Crops come in a few hundred sizes; the tables are small (32 bytes an output position).
    if (tapCache.size >= 1024) tapCache.clear();
    tapCache.set(key, taps);
  }
  const outW = to.width;
  const outH = to.height;
  const outBytes = outW * outH * 3;
  if (into && into.length < outBytes) throw new RangeError(`the output holds ${into.length} bytes, ${outBytes} are needed`);
  // The kernel's memory: tables, source, the horizontal pass's rows, the result, each with the spare
  // bytes its group loads and stores run into (cubic-enlarge.wat).
  const k = enlargeKernel();
  const layout = new WasmLayout();
  const at = {
    xs: layout.place(outW * 16), xw: layout.place(outW * 16), ys: layout.place(outH * 16), yw: layout.place(outH * 16),
    src: layout.place(rgb.length + 4), rows: layout.place(height * outW * 12 + 64), out: layout.place(outBytes + 16),
  };
  const buffer = layout.fit(k.memory);
  new Int32Array(buffer, at.xs, outW * 4).set(taps.xs);
  new Int32Array(buffer, at.xw, outW * 4).set(taps.xw);
  new Int32Array(buffer, at.ys, outH * 4).set(taps.ys);
  new Int32Array(buffer, at.yw, outH * 4).set(taps.yw);
  new Uint8Array(buffer, at.src, rgb.length).set(rgb);
  k.enlarge(at.src, width, height, outW, outH, at.xs, at.xw, at.ys, at.yw, at.rows, at.out);
  const out = into ? Buffer.from(into.buffer, into.byteOffset, outBytes) : Buffer.allocUnsafe(outBytes);
  out.set(new Uint8Array(buffer, at.out, outBytes));
  return out;
}
