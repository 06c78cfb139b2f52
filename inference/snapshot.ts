import sharp from 'sharp';
import type { Region } from '../ingest/motion.js';

/** The frame as JPEG with the alert's region boxed, for the alert's snapshot. */
export async function boxedSnapshot(frameJpeg: Buffer, width: number, height: number, box: Region | null, label: string): Promise<Buffer> {
  if (!box) return frameJpeg;
  const stroke = Math.max(2, Math.round(width / 320));
  const text = label.replace(/[^A-Za-z0-9 _-]/g, '');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<rect x="${box.x}" y="${box.y}" width="${box.width}" height="${box.height}" fill="none" stroke="#ff3b30" stroke-width="${stroke}"/>
<text x="${box.x}" y="${Math.max(12, box.y - 4)}" font-family="sans-serif" font-size="${Math.max(12, Math.round(width / 40))}" fill="#ff3b30">${text}</text></svg>`;
  return sharp(frameJpeg).composite([{ input: Buffer.from(svg), top: 0, left: 0 }]).jpeg({ quality: 80 }).toBuffer();
}
