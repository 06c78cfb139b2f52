import sharp from 'sharp';
import { canCubicEnlarge, cubicEnlarge } from './cubic-enlarge.js';

/**
 * The one pixel path. Live crops (ingest cuts, the worker resizes), training crops (`data from-videos`
 * writes native-resolution PNGs that training decodes and resizes) and uploaded photographs all reach a
 * model through these functions with this kernel, so a model sees in service the pixels it was trained on.
 */
export const RESIZE_KERNEL = 'cubic' as const;

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ContextOptions {
  /** Context around the object on each side, as a share of its larger side. */
  context?: number;
  /** Smallest side of the box in frame pixels: tiny objects still get some sky around them. */
  minSide?: number;
}

export const DEFAULT_CONTEXT = 0.5;
export const DEFAULT_MIN_SIDE = 32;

/** A square box around an object with context, kept inside the frame (smaller only when the frame is). */
export function contextBox(box: Box, frameWidth: number, frameHeight: number, options: ContextOptions = {}): Box {
  const context = options.context ?? DEFAULT_CONTEXT;
  const minSide = options.minSide ?? DEFAULT_MIN_SIDE;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const wanted = Math.max(minSide, Math.max(box.width, box.height) * (1 + 2 * context));
  const side = Math.max(1, Math.round(Math.min(wanted, frameWidth, frameHeight)));
  const x = Math.round(Math.min(Math.max(0, cx - side / 2), frameWidth - side));
  const y = Math.round(Math.min(Math.max(0, cy - side / 2), frameHeight - side));
  return { x, y, width: side, height: side };
}

/**
 * The same region in another frame of the same view (a camera's higher-resolution stream): scaled,
 * rounded outwards and kept inside that frame.
 */
export function scaleBox(box: Box, from: { width: number; height: number }, to: { width: number; height: number }): Box {
  const sx = to.width / from.width;
  const sy = to.height / from.height;
  const x0 = Math.max(0, Math.floor(box.x * sx));
  const y0 = Math.max(0, Math.floor(box.y * sy));
  const x1 = Math.min(to.width, Math.ceil((box.x + box.width) * sx));
  const y1 = Math.min(to.height, Math.ceil((box.y + box.height) * sy));
  return { x: x0, y: y0, width: Math.max(1, x1 - x0), height: Math.max(1, y1 - y0) };
}

/** The native-resolution RGB24 pixels of a box (which must lie inside the frame). */
export function cutRgb(frame: Uint8Array, frameWidth: number, box: Box): Buffer {
  const frameHeight = frame.length / (frameWidth * 3);
  if (box.x < 0 || box.y < 0 || box.x + box.width > frameWidth || box.y + box.height > frameHeight || box.width < 1 || box.height < 1) {
    throw new RangeError(`box ${box.width}x${box.height}+${box.x}+${box.y} is not inside a ${frameWidth}x${frameHeight} frame`);
  }
  const out = Buffer.alloc(box.width * box.height * 3);
  for (let y = 0; y < box.height; y++) {
    const start = ((box.y + y) * frameWidth + box.x) * 3;
    out.set(frame.subarray(start, start + box.width * 3), y * box.width * 3);
  }
  return out;
}

/** Packed RGB24 of a whole frame. */
export interface RgbFrame {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/**
 * Crops at least this wide lose nothing to resolution (the crop model's input is 224 px): only smaller
 * ones are cut from a camera's crop stream, which also bounds what a crop ships through Redis.
 */
export const DETAIL_BELOW_SIDE = 224;

/**
 * A crop's pixels for a box of the main frame: cut from `detail` (the same moment from the camera's
 * higher-resolution crop stream) when there is one and the box is small, else from the main frame.
 * Live cameras and `data from-videos` both cut with this, so a model trains on the pixels it serves.
 */
export function cutCrop(main: RgbFrame, box: Box, detail?: RgbFrame | null): { rgb: Buffer; width: number; height: number } {
  if (detail && box.width < DETAIL_BELOW_SIDE && detail.width > main.width) {
    const fine = scaleBox(box, main, detail);
    return { rgb: cutRgb(detail.rgb, detail.width, fine), width: fine.width, height: fine.height };
  }
  return { rgb: cutRgb(main.rgb, main.width, box), width: box.width, height: box.height };
}

/**
 * Packed RGB24 stretched to a model input with the project's kernel. Enlargements (most camera crops)
 * are computed here with sharp's exact bytes (cubic-enlarge.ts, its passes in WebAssembly): a sharp
 * call costs several times the arithmetic for an image this small.
 */
export async function resizeRgb(rgb: Uint8Array, width: number, height: number, to: { width: number; height: number }): Promise<Buffer> {
  if (width === to.width && height === to.height) return Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength);
  if (canCubicEnlarge(width, height, to)) return cubicEnlarge(rgb, width, height, to);
  return sharp(rgb, { raw: { width, height, channels: 3 } }).resize(to.width, to.height, { fit: 'fill', kernel: RESIZE_KERNEL }).raw().toBuffer();
}

/** Lossless PNG of native RGB24 (training crops on disk decode to exactly these pixels). */
export function encodePng(rgb: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 3 }).toBuffer();
}
