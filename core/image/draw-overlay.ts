import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './bitmap-font.js';
import type { Box, RgbFrame } from './crop-pixels.js';

/** An opaque colour as 8-bit red, green, blue. */
export type Rgb = readonly [number, number, number];

/**
 * Drawing an alert's marks (its box, its path, its caption) straight into packed RGB24, clipped to the
 * frame: a few thousand pixels written in JavaScript, where an SVG overlay had the whole frame
 * rasterised and composited by libvips for every snapshot.
 */
export function fillRect(frame: RgbFrame, x0: number, y0: number, x1: number, y1: number, colour: Rgb): void {
  const left = Math.max(0, Math.floor(x0));
  const top = Math.max(0, Math.floor(y0));
  const right = Math.min(frame.width, Math.ceil(x1));
  const bottom = Math.min(frame.height, Math.ceil(y1));
  const [r, g, b] = colour;
  for (let y = top; y < bottom; y++) {
    for (let p = (y * frame.width + left) * 3, end = (y * frame.width + right) * 3; p < end; p += 3) {
      frame.rgb[p] = r;
      frame.rgb[p + 1] = g;
      frame.rgb[p + 2] = b;
    }
  }
}

/** A box's outline, `stroke` pixels wide and centred on its edges (as an SVG stroke is). */
export function strokeBox(frame: RgbFrame, box: Box, stroke: number, colour: Rgb): void {
  const half = Math.floor(stroke / 2);
  const x0 = box.x - half;
  const y0 = box.y - half;
  const x1 = box.x + box.width + stroke - half;
  const y1 = box.y + box.height + stroke - half;
  fillRect(frame, x0, y0, x1, y0 + stroke, colour);
  fillRect(frame, x0, y1 - stroke, x1, y1, colour);
  fillRect(frame, x0, y0, x0 + stroke, y1, colour);
  fillRect(frame, x1 - stroke, y0, x1, y1, colour);
}

/** A path through `points`, `stroke` pixels wide (a square pen stepped a pixel at a time along each segment). */
export function strokePath(frame: RgbFrame, points: ReadonlyArray<{ x: number; y: number }>, stroke: number, colour: Rgb): void {
  const half = stroke / 2;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(b.x - a.x), Math.abs(b.y - a.y))));
    for (let s = 0; s <= steps; s++) {
      const x = a.x + ((b.x - a.x) * s) / steps;
      const y = a.y + ((b.y - a.y) * s) / steps;
      fillRect(frame, Math.round(x - half), Math.round(y - half), Math.round(x - half) + stroke, Math.round(y - half) + stroke, colour);
    }
  }
}

/** `text` in the bitmap font, each font pixel `scale` frame pixels, its baseline at `baseline`. */
export function drawText(frame: RgbFrame, text: string, x: number, baseline: number, scale: number, colour: Rgb): void {
  const top = baseline - GLYPH_HEIGHT * scale;
  let left = x;
  for (const char of text) {
    const rows = glyph(char);
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (rows[gy][gx]) fillRect(frame, left + gx * scale, top + gy * scale, left + (gx + 1) * scale, top + (gy + 1) * scale, colour);
      }
    }
    // One font pixel between letters.
    left += (GLYPH_WIDTH + 1) * scale;
  }
}
