import sharp from 'sharp';
import type { Box } from '../core/image/crop-pixels.js';
import { drawText, strokeBox, strokePath, type Rgb } from '../core/image/draw-overlay.js';

const BOX_COLOUR: Rgb = [0xff, 0x3b, 0x30];
const PATH_COLOUR: Rgb = [0xff, 0xcc, 0x00];

/**
 * JPEG options for evidence: Huffman tables not optimised per image (a second pass over the data
 * that cost 5.6 instead of 3.1 ms of CPU for a 640x512 frame, for files about 5% smaller).
 */
const JPEG = { optimiseCoding: false } as const;

/**
 * An alert's picture: the frame as JPEG with the object's box, its path so far and its label drawn.
 * Made only when an alert opens or updates. The marks are drawn into a copy of the frame (the ring's
 * frame is never written), with the caption in a bitmap font: an SVG overlay cost 16 ms of CPU a
 * snapshot against 3.5 ms for this (npm run bench:streaming's snapshots are made by every alert).
 */
export async function snapshotJpeg(rgb: Buffer, width: number, height: number, box: Box | null, pathPoints: Array<{ x: number; y: number }>, label: string): Promise<Buffer> {
  if (!box) return encodeJpeg(rgb, width, height, 80);
  const frame = { rgb: Buffer.from(rgb), width, height };
  const stroke = Math.max(2, Math.round(width / 320));
  if (pathPoints.length > 1) strokePath(frame, pathPoints, stroke, PATH_COLOUR);
  strokeBox(frame, box, stroke, BOX_COLOUR);
  // A caption about a fortieth of the frame high (at least 12 px), just above the box.
  const scale = Math.max(2, Math.round(Math.max(12, width / 40) / 8));
  drawText(frame, label.replace(/[^A-Za-z0-9 _.%-]/g, ''), box.x, Math.max(7 * scale + 2, box.y - 4), scale, BOX_COLOUR);
  return encodeJpeg(frame.rgb, width, height, 80);
}

/** A frame as JPEG (camera previews, snapshots). */
export async function encodeJpeg(rgb: Buffer, width: number, height: number, quality = 75): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality, ...JPEG }).toBuffer();
}
