import { rasterisePolygons, type Polygon } from '../core/geometry/polygon.js';
import { MotionKernel } from './motion-kernel.js';

/**
 * Motion detection in the manner of Frigate: frames are shrunk to a small grey image, compared with a
 * running-average background, the changed pixels are thresholded and dilated, and connected regions
 * above a minimum area become boxes in full-resolution coordinates. Live ingest and the trainer's
 * `data from-videos` both use this module, so training crops and live crops are made the same way.
 */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Changed pixels in the region, in full-resolution pixels. */
  area: number;
  /** Share of the region's changed pixels that also changed since the previous frame. */
  activity?: number;
}

export interface MotionOptions {
  /** Width of the grey image motion is computed on. */
  detectWidth: number;
  /** Grey-level difference (0..255) that counts as change. */
  threshold: number;
  /** Smallest region kept, in full-resolution pixels of changed area. */
  minArea: number;
  /** Weight of a new frame in the running background. */
  backgroundAlpha: number;
  /** Frames seen before any motion is reported. */
  warmupFrames: number;
  /** Changes over this share of the frame are a light change or camera move, not motion. */
  maxChangedFraction: number;
  maxRegions: number;
  /** Boxes closer than this (full-resolution pixels) are merged. */
  mergeDistance: number;
  /** Frames a changed-but-still pixel waits before it is taken into the background. */
  absorbFrames: number;
  /** Motion masks: areas (normalised polygons) whose pixels never count as changed. */
  ignore?: Polygon[];
}

export const DEFAULT_MOTION: MotionOptions = {
  detectWidth: 320,
  threshold: 18,
  minArea: 4,
  backgroundAlpha: 0.08,
  warmupFrames: 3,
  maxChangedFraction: 0.4,
  maxRegions: 8,
  mergeDistance: 24,
  absorbFrames: 10,
};

/** Each channel's share of the grey level (ITU-R BT.601), per byte value: the products, looked up. */
const LUMA_R = Float64Array.from({ length: 256 }, (_, v) => 0.299 * v);
const LUMA_G = Float64Array.from({ length: 256 }, (_, v) => 0.587 * v);
const LUMA_B = Float64Array.from({ length: 256 }, (_, v) => 0.114 * v);

export class MotionDetector {
  readonly options: MotionOptions;
  private readonly w: number;
  private readonly h: number;
  private readonly scale: number;
  /** Frames seen; 0 until the first frame becomes the background. */
  private frames = 0;
  /** The images of the per-pixel passes, in WebAssembly memory: grey, background, masks. */
  private readonly kernel: MotionKernel;
  /** Scratch of the region search, kept between frames (each pixel enters the stack at most once). */
  private readonly stack: Int32Array;

  constructor(readonly width: number, readonly height: number, options: Partial<MotionOptions> = {}) {
    this.options = { ...DEFAULT_MOTION, ...options };
    this.w = Math.max(8, Math.min(width, Math.round(this.options.detectWidth)));
    this.scale = width / this.w;
    this.h = Math.max(8, Math.round(height / this.scale));
    // Frames exactly twice the grey image's size are shrunk by the kernel, so its memory holds one.
    this.kernel = new MotionKernel(this.w, this.h, this.halves() ? width * height * 3 : 0);
    this.stack = new Int32Array(this.w * this.h);
    if (this.options.ignore?.length) this.kernel.ignored.set(rasterisePolygons(this.options.ignore, this.w, this.h));
  }

  /** Regions that moved in this frame (packed RGB24 at the detector's width and height). */
  detect(rgb: Uint8Array): Region[] {
    if (rgb.length !== this.width * this.height * 3) throw new Error(`expected ${this.width * this.height * 3} bytes of RGB, got ${rgb.length}`);
    this.shrink(rgb);
    const { grey, background } = this.kernel;
    if (this.frames === 0) {
      background.set(grey);
      this.kernel.previous.set(grey);
      this.frames = 1;
      return [];
    }
    const a = this.options.backgroundAlpha;
    // Moving pixels barely touch the background, so an object leaves no ghost where it was; an object
    // that stops is still absorbed, slowly (after absorbFrames still frames it becomes background).
    const changed = this.kernel.compare({ threshold: this.options.threshold, absorbFrames: this.options.absorbFrames, alpha: a, slowAlpha: a / 20 });
    this.frames++;
    if (changed > this.options.maxChangedFraction * grey.length) {
      // A lighting change or a camera move: adopt the new scene instead of reporting it all as motion.
      background.set(grey);
      return [];
    }
    if (this.frames <= this.options.warmupFrames || changed === 0) return [];
    this.kernel.dilate();
    return this.merge(this.components()).slice(0, this.options.maxRegions);
  }

  /** Whether frames are exactly twice the grey image each way (an even width), which the kernel shrinks. */
  private halves(): boolean {
    return this.width === 2 * this.w && this.height === 2 * this.h && this.w % 2 === 0;
  }

  private shrink(rgb: Uint8Array): void {
    const { w, h, width, height } = this;
    const { grey } = this.kernel;
    const fx = width / w;
    const fy = height / h;
    // The usual case (640 wide at the default 320): in WebAssembly, the same sums and weights as below.
    if (this.halves()) return this.kernel.shrinkHalf(rgb);
    if (Number.isInteger(fx) && Number.isInteger(fy)) return this.shrinkBy(fx, fy, rgb);
    for (let y = 0; y < h; y++) {
      const y0 = Math.floor(y * fy);
      const y1 = Math.max(y0 + 1, Math.floor((y + 1) * fy));
      for (let x = 0; x < w; x++) {
        const x0 = Math.floor(x * fx);
        const x1 = Math.max(x0 + 1, Math.floor((x + 1) * fx));
        let sum = 0;
        for (let yy = y0; yy < y1; yy++) {
          let p = (yy * width + x0) * 3;
          for (let xx = x0; xx < x1; xx++, p += 3) sum += LUMA_R[rgb[p]] + LUMA_G[rgb[p + 1]] + LUMA_B[rgb[p + 2]];
        }
        grey[y * w + x] = sum / ((y1 - y0) * (x1 - x0));
      }
    }
  }

  /**
   * A frame that is a whole multiple of the detector's size: each channel summed over the cell as
   * integers, then weighted once, which is the general loop's grey level up to rounding in the last bits.
   */
  private shrinkBy(fx: number, fy: number, rgb: Uint8Array): void {
    const { w, h, width } = this;
    const { grey } = this.kernel;
    const r = 0.299 / (fx * fy);
    const g = 0.587 / (fx * fy);
    const b = 0.114 / (fx * fy);
    const rowStride = width * 3;
    const cellStride = fx * 3;
    for (let y = 0; y < h; y++) {
      const top = y * fy * rowStride;
      const out = y * w;
      for (let x = 0; x < w; x++) {
        let sr = 0;
        let sg = 0;
        let sb = 0;
        const start = top + x * cellStride;
        for (let yy = 0, row = start; yy < fy; yy++, row += rowStride) {
          for (let p = row, end = row + cellStride; p < end; p += 3) {
            sr += rgb[p];
            sg += rgb[p + 1];
            sb += rgb[p + 2];
          }
        }
        grey[out + x] = r * sr + g * sg + b * sb;
      }
    }
  }

  /**
   * 8-connected regions of the dilated mask; area counts the undilated changed pixels. The search
   * clears each pixel of `dilated` as it takes it (the image is made anew every frame), and skips
   * four empty pixels at a time (most of a sky is empty).
   */
  private components(): Region[] {
    const { w, h, scale } = this;
    const { mask, moving, dilated } = this.kernel;
    const stack = this.stack;
    const words = new Uint32Array(dilated.buffer, dilated.byteOffset, dilated.length >>> 2);
    let top = 0;
    const out: Region[] = [];
    const minLowArea = this.options.minArea / (scale * scale);
    for (let start = 0; start < w * h; start++) {
      if ((start & 3) === 0 && start + 4 <= w * h && words[start >>> 2] === 0) {
        start += 3;
        continue;
      }
      if (!dilated[start]) continue;
      let minX = w, minY = h, maxX = 0, maxY = 0, area = 0, active = 0;
      stack[top++] = start;
      dilated[start] = 0;
      while (top > 0) {
        const p = stack[--top];
        const x = p % w;
        const y = (p - x) / w;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
        area += mask[p];
        active += mask[p] & moving[p];
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          const q = yy * w + xx;
          if (dilated[q]) {
            dilated[q] = 0;
            stack[top++] = q;
          }
        }
      }
      if (area < minLowArea) continue;
      out.push({
        x: Math.floor(minX * scale),
        y: Math.floor(minY * scale),
        width: Math.min(this.width, Math.ceil((maxX + 1) * scale)) - Math.floor(minX * scale),
        height: Math.min(this.height, Math.ceil((maxY + 1) * scale)) - Math.floor(minY * scale),
        area: Math.round(area * scale * scale),
        activity: active / area,
      });
    }
    return out;
  }

  private merge(regions: Region[]): Region[] {
    const d = this.options.mergeDistance;
    const list = [...regions];
    for (let changed = true; changed; ) {
      changed = false;
      outer: for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const a = list[i];
          const b = list[j];
          if (a.x - d <= b.x + b.width && b.x - d <= a.x + a.width && a.y - d <= b.y + b.height && b.y - d <= a.y + a.height) {
            const x = Math.min(a.x, b.x);
            const y = Math.min(a.y, b.y);
            const activity = ((a.activity ?? 0) * a.area + (b.activity ?? 0) * b.area) / (a.area + b.area);
            list[i] = { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y, area: a.area + b.area, activity };
            list.splice(j, 1);
            changed = true;
            break outer;
          }
        }
      }
    }
    // Regions that are really moving first, then the larger ones.
    return list.sort((a, b) => Math.round(((b.activity ?? 0) - (a.activity ?? 0)) * 4) || b.area - a.area);
  }
}

export interface CropOptions {
  /** Context around the object, as a share of its larger side on each side. */
  padding?: number;
  minSize?: number;
  square?: boolean;
}

/** A padded (square) box around a region, kept inside the frame. */
export function cropBox(region: Region, frameWidth: number, frameHeight: number, options: CropOptions = {}): Region {
  const padding = options.padding ?? 0.5;
  const minSize = options.minSize ?? 48;
  const square = options.square ?? true;
  const cx = region.x + region.width / 2;
  const cy = region.y + region.height / 2;
  let w = Math.max(minSize, region.width * (1 + 2 * padding));
  let h = Math.max(minSize, region.height * (1 + 2 * padding));
  if (square) w = h = Math.min(Math.max(w, h), frameWidth, frameHeight);
  else {
    w = Math.min(w, frameWidth);
    h = Math.min(h, frameHeight);
  }
  const width = Math.round(w);
  const height = Math.round(h);
  const x = Math.round(Math.min(Math.max(0, cx - width / 2), frameWidth - width));
  const y = Math.round(Math.min(Math.max(0, cy - height / 2), frameHeight - height));
  return { x, y, width, height, area: region.area, activity: region.activity };
}
