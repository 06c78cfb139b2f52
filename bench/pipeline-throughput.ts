/**
 * Pipeline efficiency (npm run bench:pipeline): crops of real sky clips pushed as fast as they go
 * through the frame queue (BullMQ on Redis, pixels in their own keys) and one in-process frame worker
 * (resize, micro-batched ONNX, scores back to the owner's results stream), against raw onnxruntime-node on the same crops with
 * the same preprocessing, batch 16, in the same run.
 */
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../core/logger.js';
import { ModelRegistry } from '../core/model/registry.js';
import { LocalStore } from '../core/storage/local-store.js';
import { FrameWorker } from '../inference/frame-worker.js';
import { MicroBatcher } from '../inference/micro-batcher.js';
import { ModelHolder } from '../inference/model-holder.js';
import { OnnxModel } from '../inference/onnx-model.js';
import { Predictor } from '../inference/predictor.js';
import { decodeImage, rgbToTensor } from '../inference/preprocess.js';
import { CropResults } from '../queue/crop-results.js';
import { FrameQueue } from '../queue/frame-queue.js';
import { createRedis } from '../queue/redis-connection.js';
import { buildCropsFromVideos } from '../trainer/data/from-videos.js';
import { publishRealisticModel } from './support/realistic-model.js';

const N = Number(process.env.BENCH_FRAMES ?? 800);
const dir = mkdtempSync(path.join(os.tmpdir(), 'sw-pipe-'));
const { registryDir, modelPath, manifest } = await publishRealisticModel(dir);
const clips = path.join(dir, 'clips', 'drone');
mkdirSync(clips, { recursive: true });
const src = path.resolve('../shared/data/videos/drone');
for (const f of readdirSync(src).sort().slice(0, 6)) symlinkSync(path.join(src, f), path.join(clips, f));
await buildCropsFromVideos(path.join(dir, 'clips'), path.join(dir, 'crops'), { fps: 3, maxCropsPerClip: 20, cropSize: 224 });
const files = readdirSync(path.join(dir, 'crops', 'drone')).map((f) => path.join(dir, 'crops', 'drone', f));
const crops = await Promise.all(files.map(async (f) => (await decodeImage(f, 224, 224)).rgb));
console.log(`${crops.length} real crops (224x224) from 6 drone clips; ${N} frames of one crop each`);

// Raw: the same crops, the same normalisation, batches of 16, one session with 2 threads.
const model = await OnnxModel.load(modelPath, manifest, { intraOpThreads: 2 });
const per = 3 * 224 * 224;
let t = performance.now();
for (let i = 0; i < N; i += 16) {
  const n = Math.min(16, N - i);
  const batch = new Float32Array(n * per);
  for (let j = 0; j < n; j++) rgbToTensor(crops[(i + j) % crops.length], manifest.input, batch, j * per);
  await model.run(batch, n);
}
const raw = N / ((performance.now() - t) / 1000);
await model.release();

const prefix = `bench-pipe-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
await redis.ping();
const registry = new ModelRegistry(new LocalStore(registryDir));
const holder = new ModelHolder({ registry, cacheDir: path.join(dir, 'cache'), threads: { intraOpThreads: 2 }, pollIntervalMs: 60_000, logger: silentLogger });
await holder.reload();
const predictor = new Predictor(holder, new MicroBatcher({ maxBatch: 16, maxWaitMs: 2 }), { maxPixels: 1e8 });
const worker = new FrameWorker({ redis: createRedis('redis://127.0.0.1:6379'), prefix, predictor, results: new CropResults(redis, prefix), logger: silentLogger, deadlineMs: 600_000, concurrency: 16 });
const queue = new FrameQueue({ redis, prefix, pixelTtlMs: 600_000 });
worker.start();
t = performance.now();
for (let seq = 0; seq < N; seq++) {
  const rgb = crops[seq % crops.length];
  await queue.submit({ cameraId: `cam${seq % 8}`, seq, capturedAt: Date.now(), width: 640, height: 512, pipeline: 'bench', owner: 'bench', crops: [{ trackId: 1, box: { x: 0, y: 0, width: 224, height: 224 }, rgb, width: 224, height: 224 }] });
}
while (worker.counters.inferred < N) await new Promise((r) => setTimeout(r, 20));
const pipeline = N / ((performance.now() - t) / 1000);
console.log(`raw onnxruntime-node: ${raw.toFixed(1)} crops/s; whole pipeline (queue + worker + batcher + results): ${pipeline.toFixed(1)} frames/s; ratio ${(pipeline / raw).toFixed(2)}`);
await worker.close();
await queue.close();
await holder.stop();
const keys = await redis.keys(`${prefix}*`);
if (keys.length) await redis.del(...keys);
redis.disconnect();
process.exit(0);
