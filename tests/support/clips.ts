import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

/**
 * A short H.264 clip made by ffmpeg: a dark square crossing a plain sky, or a still sky. `grain` adds
 * sensor noise to every frame, so the file is as large as a real clip's (hundreds of KB, its index
 * after its data) instead of a few KB that readers buffer whole.
 */
export function makeClip(file: string, options: { moving: boolean; seconds?: number; width?: number; height?: number; grain?: boolean }): string {
  mkdirSync(path.dirname(file), { recursive: true });
  const { width = 320, height = 240, seconds = 3 } = options;
  const sky = `color=c=0x87ceeb:s=${width}x${height}:d=${seconds}:r=25`;
  const grain = options.grain ? ',noise=alls=12:allf=t' : '';
  const args = options.moving
    ? ['-f', 'lavfi', '-i', sky, '-f', 'lavfi', '-i', `color=c=0x202020:s=14x14:d=${seconds}:r=25`, '-filter_complex', `[0][1]overlay=x='20+t*70':y='60+t*20':shortest=1${grain}`]
    : ['-f', 'lavfi', '-i', sky + grain];
  execFileSync('ffmpeg', ['-y', '-loglevel', 'error', ...args, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '25', file]);
  return file;
}
