import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
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

/**
 * A short evidence clip: raw frames piped into ffmpeg's stdin, H.264 in MP4 (at most 640 pixels wide,
 * playable in browsers: yuv420p, moov atom first). Made only for objects that become alerts.
 */
export async function encodeClipMp4(frames: Buffer[], width: number, height: number, fps: number): Promise<Buffer> {
  if (frames.length === 0) throw new Error('no frames for a clip');
  const dir = await mkdtemp(path.join(tmpdir(), 'sw-clip-'));
  const out = path.join(dir, 'clip.mp4');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('ffmpeg', [
        '-loglevel', 'error', '-y',
        '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0',
        '-an', '-vf', "scale='min(640,iw)':-2", '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
        '-movflags', '+faststart', '-f', 'mp4', out,
      ], { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr = `${stderr}${d.toString()}`.slice(-2000)));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg could not encode the clip (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}`))));
      // A closed stdin (ffmpeg failed early) must not throw from the write.
      child.stdin.on('error', () => {});
      for (const f of frames) child.stdin.write(f);
      child.stdin.end();
    });
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A frame as JPEG (camera previews). */
export async function encodeJpeg(rgb: Buffer, width: number, height: number, quality = 75): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
}
