import type { Command } from 'commander';
import { buildTracksFromVideos } from '../../trainer/data/tracks-from-videos.js';
import { printResult, type CliContext } from '../context.js';

const num = (v: string) => Number(v);

export function registerFromVideosCommand(data: Command, _ctx: CliContext): void {
  data.command('from-videos')
    .argument('<clips-dir>', 'folder of labelled clips (one subfolder per label)')
    .argument('<out>', 'track data set to write: <label>/<clip>/tracks.json and the crops beside it')
    .description('play each clip through the camera stages (motion, tracker) at the camera rate and write every track: its boxes over time and the native-resolution crop at each point. Train a track model on it with `skywatch train --kind track --data OUT`.')
    .option('--fps <n>', 'frames sampled per second of video (cameras run at 5)', num, 5)
    .option('--min-area <px>', 'smallest moving area kept, in pixels', num, 4)
    .option('--threshold <n>', 'grey-level change that counts as motion (0-255)', num, 18)
    .option('--concurrency <n>', 'clips decoded at once', num, 2)
    .option('--json', 'one JSON document on stdout')
    .action(async (clipsDir: string, out: string, opts: { fps: number; minArea: number; threshold: number; concurrency: number; json?: boolean }) => {
      const result = await buildTracksFromVideos(clipsDir, out, {
        fps: opts.fps,
        concurrency: opts.concurrency,
        motion: { minArea: opts.minArea, threshold: opts.threshold },
        onProgress: (p) => process.stderr.write(`[${p.done}/${p.total}] ${p.clip}: ${p.tracks} tracks (${p.crops} crops so far)\n`),
      });
      for (const s of result.skipped) process.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
      printResult(!!opts.json, result, () => `${result.clips} clips -> ${Object.entries(result.perLabel).map(([l, s]) => `${l}: ${s.tracks} tracks, ${s.crops} crops${s.clipsWithoutTracks ? `, ${s.clipsWithoutTracks} clips without a track` : ''}`).join('; ')} in ${out}`);
    });
}
