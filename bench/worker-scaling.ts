/**
 * Scaling out workers (npm run bench:scaling): a queue pre-filled with frames of real crops, drained by
 * 1, 2 and 4 `skywatch worker` processes on the same Redis; frames per second for each. On this 2-core
 * machine this shows the cost of more processes on the same cores; on more machines it is the number
 * to multiply.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeImage } from '../inference/preprocess.js';
import { FrameQueue } from '../queue/frame-queue.js';
import { createRedis } from '../queue/redis-connection.js';
import { buildCropsFromVideos } from '../trainer/data/from-videos.js';
import { publishRealisticModel } from './support/realistic-model.js';

const N = Number(process.env.BENCH_FRAMES ?? 600);
const COUNTS = (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map(Number);
const dir = mkdtempSync(path.join(os.tmpdir(), 'sw-scale-'));
const { registryDir } = await publishRealisticModel(dir);
mkdirSync(path.join(dir, 'clips', 'drone'), { recursive: true });
const src = path.resolve('../shared/data/videos/drone');
for (const f of readdirSync(src).sort().slice(0, 4)) symlinkSync(path.join(src, f), path.join(dir, 'clips', 'drone', f));
await buildCropsFromVideos(path.join(dir, 'clips'), path.join(dir, 'crops'), { fps: 3, maxCropsPerClip: 20 });
const crops = await Promise.all(readdirSync(path.join(dir, 'crops', 'drone')).map(async (f) => (await decodeImage(path.join(dir, 'crops', 'drone', f), 224, 224)).rgb));
console.log(`${os.cpus().length} cores; ${N} frames of one real 224x224 crop; SqueezeNet + head; 2 ORT threads per worker`);

for (const workers of COUNTS) {
  const prefix = `bench-scale-${workers}-${Date.now()}`;
  const redis = createRedis('redis://127.0.0.1:6379');
  await redis.ping();
  const queue = new FrameQueue({ redis, prefix, pixelTtlMs: 600_000 });
  for (let seq = 0; seq < N; seq++) await queue.submit({ cameraId: `cam${seq % 8}`, seq, capturedAt: Date.now(), width: 640, height: 512, pipeline: 'bench', owner: 'bench', crops: [{ trackId: 1, box: { x: 0, y: 0, width: 224, height: 224 }, rgb: crops[seq % crops.length], width: 224, height: 224 }] });
  const procs: ChildProcess[] = [];
  for (let i = 0; i < workers; i++) {
    procs.push(spawn('node', ['bin/skywatch.mjs', 'worker', '--registry', registryDir, '--port', String(19000 + i)], {
      env: { ...process.env, SKYWATCH_STATE_DIR: path.join(dir, `w${workers}-${i}`), SKYWATCH_REDIS_PREFIX: prefix, SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_FRAME_DEADLINE_MS: '600000' },
      stdio: ['ignore', 'ignore', 'inherit'],
    }));
  }
  // Time from the first completed job to the last: start-up (loading the model) is not throughput.
  let first = 0;
  for (;;) {
    const c = await queue.queue.getJobCounts('completed');
    if (c.completed > 0 && !first) first = performance.now();
    if (c.completed >= N) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - first) / 1000;
  console.log(`${workers} worker process(es): ${(N / seconds).toFixed(1)} frames/s`);
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
  await queue.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}
process.exit(0);
