/**
 * Motion's cost a frame and what it found (npm run bench:motion): every shared clip (or
 * BENCH_MOTION_CLIPS of them) decoded by ffmpeg at 5 fps and 640x512 into memory, then played through
 * a fresh MotionDetector with the default settings, timed around detect() alone. Prints the mean cost a
 * frame and a digest of every frame's regions: a change meant to make motion cheaper without changing
 * it gives the same digest on the commit before and after (the tracks, crops and alerts follow from
 * the regions). The decode is not timed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MotionDetector } from '../ingest/motion.js';

const ROOT = path.resolve('../shared/data/videos');
const W = 640;
const H = 512;
const FRAME = W * H * 3;
const LIMIT = Number(process.env.BENCH_MOTION_CLIPS ?? Infinity);

const clips = readdirSync(ROOT)
  .filter((label) => statSync(path.join(ROOT, label)).isDirectory())
  .flatMap((label) => readdirSync(path.join(ROOT, label)).filter((f) => f.endsWith('.mp4')).sort().map((f) => path.join(ROOT, label, f)))
  .slice(0, LIMIT);

const digest = createHash('sha256');
let frames = 0;
let regions = 0;
let ms = 0;
for (const clip of clips) {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', clip, '-vf', `fps=5,scale=${W}:${H}`, '-an', '-sn', '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 1 << 30 });
  const detector = new MotionDetector(W, H);
  for (let at = 0; at + FRAME <= raw.length; at += FRAME) {
    // Each frame its own allocation, as decoded frames are (frame-pool.ts): motion reads them by words.
    const frame = Buffer.from(raw.subarray(at, at + FRAME));
    const t0 = performance.now();
    const found = detector.detect(frame);
    ms += performance.now() - t0;
    frames++;
    regions += found.length;
    digest.update(JSON.stringify(found));
  }
}
console.log(`${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}); Node ${process.version}; load ${os.loadavg()[0].toFixed(2)}`);
console.log(`${clips.length} clips, ${frames} frames at ${W}x${H}, ${regions} regions`);
console.log(`motion: ${(ms / frames).toFixed(3)} ms a frame`);
console.log(`regions digest: ${digest.digest('hex')}`);
