import sharp from 'sharp';
import type { Box } from '../core/image/crop-pixels.js';

/**
 * An alert's picture: the frame as JPEG with the object's box, its path so far and its label drawn.
 * Made only when an alert opens or updates.
 */
export async function snapshotJpeg(rgb: Buffer, width: number, height: number, box: Box | null, pathPoints: Array<{ x: number; y: number }>, label: string): Promise<Buffer> {
  const image = sharp(rgb, { raw: { width, height, channels: 3 } });
  if (!box) return image.jpeg({ quality: 80 }).toBuffer();
  const stroke = Math.max(2, Math.round(width / 320));
  const text = label.replace(/[^A-Za-z0-9 _.%-]/g, '');
  const line = pathPoints.length > 1
    ? `<polyline points="${pathPoints.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}" fill="none" stroke="#ffcc00" stroke-width="${stroke}" stroke-linejoin="round"/>`
    : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${line}
<rect x="${box.x}" y="${box.y}" width="${box.width}" height="${box.height}" fill="none" stroke="#ff3b30" stroke-width="${stroke}"/>
<text x="${box.x}" y="${Math.max(12, box.y - 4)}" font-family="sans-serif" font-size="${Math.max(12, Math.round(width / 40))}" fill="#ff3b30">${text}</text></svg>`;
  return image.composite([{ input: Buffer.from(svg), top: 0, left: 0 }]).jpeg({ quality: 80 }).toBuffer();
}

/** A frame as JPEG (camera previews). */
export async function encodeJpeg(rgb: Buffer, width: number, height: number, quality = 75): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
}
