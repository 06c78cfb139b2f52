// The evidence clip encoder's own small process. Starting a child copies the parent's page tables
// (fork), which costs a 600 MB ingest process about 35 ms of a blocked event loop per ffmpeg run;
// from this small process it costs a few. Plain JavaScript, so it starts under any loader. One clip
// at a time, at a lower CPU priority than live detection: evidence is not urgent, frames are.
import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';

/** H.264 in MP4, at most 640 pixels wide, playable in browsers (yuv420p, moov atom first). */
function ffmpegArgs(job) {
  return [
    '-loglevel', 'error', '-y', '-threads', '1',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${job.width}x${job.height}`, '-r', String(job.fps), '-i', job.input,
    '-an', '-vf', "scale='min(640,iw)':-2", '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
    '-movflags', '+faststart', '-f', 'mp4', job.output,
  ];
}

function encode(job) {
  return new Promise((resolve) => {
    const child = spawn('ffmpeg', ffmpegArgs(job), { stdio: ['ignore', 'ignore', 'pipe'] });
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
