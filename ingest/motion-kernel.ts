import { WasmLayout, wasmModule } from '../core/wasm-module.js';

interface KernelExports {
  memory: WebAssembly.Memory;
  shrinkHalf(rgb: number, grey: number, w: number, h: number, rowBytes: number, r: number, g: number, b: number): void;
  compare(grey: number, bg: number, prev: number, mask: number, moving: number, stable: number, ignored: number, n: number, t: number, absorb: number, a: number, slow: number): number;
  dilate(mask: number, out: number, row: number, w: number, h: number): void;
}

export interface CompareSettings {
  /** Grey-level difference that counts as change. */
  threshold: number;
  /** Frames a changed-but-still pixel waits before it is taken into the background. */
  absorbFrames: number;
  /** Weight of a new frame in the background. */
  alpha: number;
  /** The weight where the pixel changed. */
  slowAlpha: number;
}

/**
 * The per-pixel passes of motion detection in WebAssembly (ingest/motion-kernel.wat): the 2x2 grey
 * shrink, the background compare and the dilation, which were a third of the main thread's time at a
 * dozen cameras. One instance per detector, its memory holding the detector's images; the typed arrays
 * here are views on that memory, which never grows after construction (growth would detach them).
 */
export class MotionKernel {
  /** Grey levels of the current frame. */
  readonly grey: Float32Array;
  readonly background: Float32Array;
  readonly previous: Float32Array;
  /** 1 where the pixel differs from the background. */
  readonly mask: Uint8Array;
  /** 1 where the pixel differs from the previous frame. */
  readonly moving: Uint8Array;
  /** Frames each pixel has been changed but still. */
  readonly stable: Uint16Array;
  /** 1 where a motion mask covers the pixel. */
  readonly ignored: Uint8Array;
  /** `mask` grown by one pixel in every direction. */
  readonly dilated: Uint8Array;
  readonly pixels: number;
  private readonly rgb: Uint8Array;
  private readonly exports: KernelExports;
  private readonly at: { grey: number; background: number; previous: number; stable: number; mask: number; moving: number; ignored: number; dilated: number; row: number; rgb: number };
  /** Pixels rounded up to whole groups of four (the compare's step); the padding stays zero. */
  private readonly padded: number;

  /**
   * @param width width of the grey image
   * @param height height of the grey image
   * @param rgbBytes the frame size `shrinkHalf` is given (0 when the detector shrinks frames itself)
   */
  constructor(readonly width: number, readonly height: number, rgbBytes: number) {
    const pixels = (this.pixels = width * height);
    const n = (this.padded = (pixels + 3) & ~3);
    const layout = new WasmLayout();
    this.at = {
      grey: layout.place(n * 4), background: layout.place(n * 4), previous: layout.place(n * 4), stable: layout.place(n * 2),
      // The dilation reads and writes whole 16-byte groups: up to 15 bytes past a row (and the image).
      mask: layout.place(n + 16), moving: layout.place(n + 16), ignored: layout.place(n + 16), dilated: layout.place(n + 16),
      // One row of the dilation, with a zero byte before it (the 16 bytes placed ahead) and after it.
      row: layout.place(16 + width + 32) + 16,
      rgb: layout.place(rgbBytes),
    };
    const instance = new WebAssembly.Instance(wasmModule(new URL('./motion-kernel.wasm', import.meta.url)), {});
    this.exports = instance.exports as unknown as KernelExports;
    const buffer = layout.fit(this.exports.memory);
    this.grey = new Float32Array(buffer, this.at.grey, pixels);
    this.background = new Float32Array(buffer, this.at.background, pixels);
    this.previous = new Float32Array(buffer, this.at.previous, pixels);
    this.stable = new Uint16Array(buffer, this.at.stable, pixels);
    this.mask = new Uint8Array(buffer, this.at.mask, pixels);
    this.moving = new Uint8Array(buffer, this.at.moving, pixels);
    this.ignored = new Uint8Array(buffer, this.at.ignored, pixels);
    this.dilated = new Uint8Array(buffer, this.at.dilated, pixels);
    this.rgb = new Uint8Array(buffer, this.at.rgb, rgbBytes);
  }

  /**
   * `grey` from a packed RGB24 frame of `2w x 2h` pixels (rows of `width * 3` bytes): each 2x2 cell's
   * channels summed and weighted with BT.601's weights over four.
   */
  shrinkHalf(rgb: Uint8Array): void {
    const { width: w, height: h } = this;
    if (w % 2 !== 0 || rgb.length !== w * h * 12 || rgb.length > this.rgb.length) throw new RangeError(`shrinkHalf: ${rgb.length} bytes are not a ${2 * w}x${2 * h} RGB frame`);
    this.rgb.set(rgb);
    this.exports.shrinkHalf(this.at.rgb, this.at.grey, w, h, w * 2 * 3, 0.299 / 4, 0.587 / 4, 0.114 / 4);
  }

  /** `dilated` from `mask`: a pixel is set where it or any of its 8 neighbours changed. */
  dilate(): void {
    this.exports.dilate(this.at.mask, this.at.dilated, this.at.row, this.width, this.height);
  }

  /** Compares `grey` with the background and the previous frame, updating both; returns the changed pixels. */
  compare(settings: CompareSettings): number {
    const { at } = this;
    return this.exports.compare(
      at.grey, at.background, at.previous, at.mask, at.moving, at.stable, at.ignored, this.padded,
      settings.threshold, settings.absorbFrames, settings.alpha, settings.slowAlpha,
    );
  }
}
