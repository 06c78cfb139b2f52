import type { Command } from 'commander';
import { buildCropsFromVideos } from '../../trainer/data/from-videos.js';
import { printResult, type CliContext } from '../context.js';

const num = (v: string) => Number(v);

export function registerFromVideosCommand(data: Command, _ctx: CliContext): void {
  data.command('from-videos')
    .argument('<clips-dir>', 'folder of labelled clips (one subfolder per label)')
    .argument('<out>', 'image data set to write (crops, sources.json, splits by clip)')
    .description('find moving objects in each clip (running background, frame differencing, connected regions) and write square crops around them')
    .option('--fps <n>', 'frames sampled per second of video', num, 2)
    .option('--min-area <px>', 'smallest moving area kept, in pixels', num, 24)
    .option('--threshold <n>', 'grey-level change that counts as motion (0-255)', num, 18)
    .option('--crop-size <px>', 'side of the written crops', num, 224)
    .option('--max-per-clip <n>', 'at most this many crops per clip', num, 40)
    .option('--seed <n>', 'seed of the splits', num, 42)
    .option('--json', 'one JSON document on stdout')
    .action(async (clipsDir: string, out: string, opts: { fps: number; minArea: number; threshold: number; cropSize: number; maxPerClip: number; seed: number; json?: boolean }) => {
      const result = await buildCropsFromVideos(clipsDir, out, {
        fps: opts.fps,
        cropSize: opts.cropSize,
        maxCropsPerClip: opts.maxPerClip,
        seed: opts.seed,
        motion: { minArea: opts.minArea, threshold: opts.threshold },
        onProgress: (p) => process.stderr.write(`[${p.done}/${p.total}] ${p.clip}: ${p.crops} crops so far\n`),
      });
      for (const s of result.skipped) process.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
      printResult(!!opts.json, result, () => `${result.clips} clips -> ${Object.entries(result.crops).map(([l, n]) => `${l} ${n}`).join(', ')} crops in ${out} (splits by clip written)`);
    });
}
