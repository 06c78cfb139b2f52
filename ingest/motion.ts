import { rasterisePolygons, type Polygon } from '../core/geometry/polygon.js';

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

/** Whether 32-bit words hold their bytes low first (every platform Node ships on, checked anyway). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class MotionDetector {
  readonly options: MotionOptions;
  private readonly w: number;
  private readonly h: number;
  private readonly scale: number;
  private background: Float32Array | null = null;
  private frames = 0;
  private readonly grey: Float32Array;
  private readonly mask: Uint8Array;
  private readonly dilated: Uint8Array;
  private readonly previous: Float32Array;
  private readonly moving: Uint8Array;
  private readonly stable: Uint16Array;
  /** Scratch of the region search, kept between frames (each pixel enters the stack at most once). */
  private readonly seen: Uint8Array;
  private readonly stack: Int32Array;
  /** 1 where a motion mask covers the pixel, at the detector's resolution; null without masks. */
  private readonly ignored: Uint8Array | null;

  constructor(readonly width: number, readonly height: number, options: Partial<MotionOptions> = {}) {
    this.options = { ...DEFAULT_MOTION, ...options };
    this.w = Math.max(8, Math.min(width, Math.round(this.options.detectWidth)));
    this.scale = width / this.w;
    this.h = Math.max(8, Math.round(height / this.scale));
    this.grey = new Float32Array(this.w * this.h);
    this.mask = new Uint8Array(this.w * this.h);
    this.dilated = new Uint8Array(this.w * this.h);
    this.previous = new Float32Array(this.w * this.h);
    this.moving = new Uint8Array(this.w * this.h);
    this.stable = new Uint16Array(this.w * this.h);
    this.seen = new Uint8Array(this.w * this.h);
    this.stack = new Int32Array(this.w * this.h);
    this.ignored = this.options.ignore?.length ? rasterisePolygons(this.options.ignore, this.w, this.h) : null;
  }

  /** Regions that moved in this frame (packed RGB24 at the detector's width and height). */
  detect(rgb: Uint8Array): Region[] {
    if (rgb.length !== this.width * this.height * 3) throw new Error(`expected ${this.width * this.height * 3} bytes of RGB, got ${rgb.length}`);
    this.shrink(rgb);
    const { grey } = this;
    if (!this.background) {
      this.background = Float32Array.from(grey);
      this.previous.set(grey);
      this.frames = 1;
      return [];
    }
    // The per-pixel pass lives in a method of its own: the rare branches here (warm-up, light changes)
    // kept deoptimising the whole of detect, pixel loop and all (V8's --trace-deopt).
    const changed = this.compare(this.background);
    this.frames++;
    if (changed > this.options.maxChangedFraction * grey.length) {
      // A lighting change or a camera move: adopt the new scene instead of reporting it all as motion.
      this.background.set(grey);
      return [];
    }
    if (this.frames <= this.options.warmupFrames || changed === 0) return [];
    this.dilate();
    return this.merge(this.components()).slice(0, this.options.maxRegions);
  }

  /**
   * Compares the frame's grey levels with the background and the previous frame and updates both, in
   * one pass (it runs over every pixel of every frame of every camera). A frame that turns out to be a
   * light change overwrites the background afterwards. The same arithmetic, in the same order, as the
   * two passes it replaced: the regions do not change.
   */
  private compare(bg: Float32Array): number {
    const { grey, previous, mask, moving, stable, ignored } = this;
    const t = this.options.threshold;
    const absorb = this.options.absorbFrames;
    const a = this.options.backgroundAlpha;
    // Moving pixels barely touch the background, so an object leaves no ghost where it was; an object
    // that stops is still absorbed, slowly.
    const slow = a / 20;
    let changed = 0;
    for (let i = 0; i < grey.length; i++) {
      // Masked pixels never count as changed (their background still follows the scene).
      const free = ignored === null || ignored[i] === 0;
      const v = grey[i];
      const b = bg[i];
      const on = free && Math.abs(v - b) > t ? 1 : 0;
      const p = previous[i];
      const moved = free && Math.abs(v - p) > t ? 1 : 0;
      mask[i] = on;
      moving[i] = moved;
      previous[i] = v;
      changed += on;
      // A pixel unlike the background but still from frame to frame is a ghost (an object that was in
      // the first frames and left) or an object that stopped: after a while it becomes background.
      if (on === 1 && moved === 0) {
        const still = stable[i] + 1;
        if (still > absorb) {
          bg[i] = v;
          stable[i] = 0;
          continue;
        }
        stable[i] = still;
      } else stable[i] = 0;
      bg[i] = b + (on ? slow : a) * (v - b);
    }
    return changed;
  }

  private shrink(rgb: Uint8Array): void {
    const { w, h, width, height } = this;
    const fx = width / w;
    const fy = height / h;
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
        this.grey[y * w + x] = sum / ((y1 - y0) * (x1 - x0));
      }
    }
  }

  /**
   * The common case (the frame is a whole multiple of the detector's size, 640 -> 320): each channel
   * summed over the cell as integers, then weighted once, which is the general loop's grey level up to
   * rounding in the last bits, at a fraction of its cost (this loop reads every pixel of every frame).
   */
  private shrinkBy(fx: number, fy: number, rgb: Uint8Array): void {
    const { w, h, width, grey } = this;
    const r = 0.299 / (fx * fy);
    const g = 0.587 / (fx * fy);
    const b = 0.114 / (fx * fy);
    const rowStride = width * 3;
    const cellStride = fx * 3;
    if (fx === 2 && fy === 2) {
      if (LITTLE_ENDIAN && rgb.byteOffset % 4 === 0 && rowStride % 4 === 0 && w % 2 === 0) return this.shrinkHalfByWords(rgb);
      // 640x512 cameras at the default 320 width: the cell's four pixels, unrolled.
      for (let y = 0; y < h; y++) {
        let p = y * 2 * rowStride;
        const out = y * w;
        for (let x = 0; x < w; x++, p += 6) {
          const q = p + rowStride;
          const sr = rgb[p] + rgb[p + 3] + rgb[q] + rgb[q + 3];
          const sg = rgb[p + 1] + rgb[p + 4] + rgb[q + 1] + rgb[q + 4];
          const sb = rgb[p + 2] + rgb[p + 5] + rgb[q + 2] + rgb[q + 5];
          grey[out + x] = r * sr + g * sg + b * sb;
        }
      }
      return;
    }
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
   * shrinkBy(2, 2) on 32-bit words instead of bytes, for frames whose rows start on a word boundary
   * (decoded frames do: each is its own allocation). Two cells, 4 pixels x 2 rows, are 3 words a row;
   * masking alternate bytes into 16-bit lanes adds the two rows' channels in one addition per lane
   * (at most 2 x 255 a lane, so no lane spills into the next). Integer sums, so exactly the bytes
   * path's grey levels, in a quarter of the loads (the loop reads every byte of every frame).
   */
  private shrinkHalfByWords(rgb: Uint8Array): void {
    const { w, h, width, grey } = this;
    const r = 0.299 / 4;
    const g = 0.587 / 4;
    const b = 0.114 / 4;
    const words = new Uint32Array(rgb.buffer, rgb.byteOffset, (width * this.height * 3) >>> 2);
    const rowWords = (width * 3) >>> 2;
    const M = 0x00ff00ff;
    for (let y = 0; y < h; y++) {
      let t = y * 2 * rowWords;
      let u = t + rowWords;
      let out = y * w;
      for (let x = 0; x < w; x += 2, t += 3, u += 3, out += 2) {
        const t0 = words[t];
        const t1 = words[t + 1];
        const t2 = words[t + 2];
        const u0 = words[u];
        const u1 = words[u + 1];
        const u2 = words[u + 2];
        // Little endian: t0 holds R0 G0 B0 R1, t1 G1 B1 R2 G2, t2 B2 R3 G3 B3 (low byte first).
        const e0 = (t0 & M) + (u0 & M); // R0 | B0
        const o0 = ((t0 >>> 8) & M) + ((u0 >>> 8) & M); // G0 | R1
        const e1 = (t1 & M) + (u1 & M); // G1 | R2
        const o1 = ((t1 >>> 8) & M) + ((u1 >>> 8) & M); // B1 | G2
        const e2 = (t2 & M) + (u2 & M); // B2 | G3
        const o2 = ((t2 >>> 8) & M) + ((u2 >>> 8) & M); // R3 | B3
        grey[out] = r * ((e0 & 0xffff) + (o0 >>> 16)) + g * ((o0 & 0xffff) + (e1 & 0xffff)) + b * ((e0 >>> 16) + (o1 & 0xffff));
        grey[out + 1] = r * ((e1 >>> 16) + (o2 & 0xffff)) + g * ((o1 >>> 16) + (e2 >>> 16)) + b * ((e2 & 0xffff) + (o2 >>> 16));
      }
    }
  }

  private dilate(): void {
    const { w, h, mask, dilated } = this;
    dilated.fill(0);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!mask[y * w + x]) continue;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= h) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx >= 0 && xx < w) dilated[yy * w + xx] = 1;
          }
        }
      }
    }
  }

  /** 8-connected regions of the dilated mask; area counts the undilated changed pixels. */
  private components(): Region[] {
    const { w, h, dilated, mask, scale } = this;
    const seen = this.seen;
    seen.fill(0);
    const stack = this.stack;
    let top = 0;
    const out: Region[] = [];
    const minLowArea = this.options.minArea / (scale * scale);
    for (let start = 0; start < w * h; start++) {
      if (!dilated[start] || seen[start]) continue;
      let minX = w, minY = h, maxX = 0, maxY = 0, area = 0, active = 0;
      stack[top++] = start;
      seen[start] = 1;
      while (top > 0) {
        const p = stack[--top];
        const x = p % w;
        const y = (p - x) / w;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
        area += mask[p];
        active += mask[p] & this.moving[p];
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          const q = yy * w + xx;
          if (dilated[q] && !seen[q]) {
            seen[q] = 1;
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
