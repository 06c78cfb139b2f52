// The evidence clip encoder's own small process. Starting a child copies the parent's page tables
// (fork), which costs a 600 MB ingest process about 35 ms of a blocked event loop per ffmpeg run;
// from this small process it costs a few. Plain JavaScript, so it starts under any loader. One ffmpeg
// run at a time, at a lower CPU priority than live detection: evidence is not urgent, frames are.
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';

/**
 * H.264 in MP4, at most 640 pixels wide, playable in browsers (yuv420p, moov atom first): one output
 * per clip, all in one ffmpeg run (starting ffmpeg costs more than a short clip's frames). One thread
 * an encoder: a clip took 0.12 s of CPU so against 0.16 s with x264's own threads.
 */
function ffmpegArgs(clips) {
  return [
    '-loglevel', 'error', '-y',
    ...clips.flatMap((c) => ['-threads', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${c.width}x${c.height}`, '-r', String(c.fps), '-i', c.input]),
    ...clips.flatMap((c, k) => [
      '-map', `${k}:v`, '-an', '-vf', "scale='min(640,iw)':-2", '-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '1',
      '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-f', 'mp4', c.output,
    ]),
  ];
}

function encode(job) {
  return new Promise((resolve) => {
    const child = spawn('ffmpeg', ffmpegArgs(job.clips), { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      setPriority(child.pid, job.nice);
    } catch {
      // Not allowed to lower it (or it already ended): encode at normal priority.
    }
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = `${stderr}${d.toString()}`.slice(-2000)));
    child.on('error', (err) => resolve({ id: job.id, error: `ffmpeg could not start: ${err.message}` }));
    child.on('exit', (code) => resolve(code === 0 ? { id: job.id } : { id: job.id, error: `ffmpeg could not encode the clip (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}` }));
  });
}

let queue = Promise.resolve();
process.on('message', (job) => {
  queue = queue.then(async () => process.send?.(await encode(job)));
});
// The parent went away: nothing left to encode for.
process.on('disconnect', () => process.exit(0));
