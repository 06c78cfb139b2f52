/**
 * Serving benchmark (npm run bench:predict): in one run, on one model (SqueezeNet + head, 2 threads),
 * the same JPEGs from ../shared/data/images/valid:
 *   raw    onnxruntime-node, decode + batch of 16 + run, no HTTP: the ceiling
 *   api    POST /v1/predict at concurrency 16 with micro-batching (max batch 16)
 *   api-b1 the same with max batch 1
 * then p99 latency, and the server's RSS at request 2,000 and 10,000.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { OnnxModel } from '../inference/onnx-model.js';
import { decodeImage, rgbToTensor } from '../inference/preprocess.js';
import { publishRealisticModel } from './support/realistic-model.js';

const VALID = path.resolve('../shared/data/images/valid');
const CONCURRENCY = 16;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);

const files = ['bird', 'drone'].flatMap((l) => readdirSync(path.join(VALID, l)).slice(0, 40).map((f) => path.join(VALID, l, f)));
const images = files.map((f) => readFileSync(f));

async function raw(modelPath: string, manifest: Parameters<typeof OnnxModel.load>[1]): Promise<number> {
  const model = await OnnxModel.load(modelPath, manifest, { intraOpThreads: 2 });
  const per = 3 * manifest.input.width * manifest.input.height;
  const until = performance.now() + SECONDS * 1000;
  let done = 0;
  let i = 0;
  const started = performance.now();
  while (performance.now() < until) {
    const batch = new Float32Array(CONCURRENCY * per);
    await Promise.all(Array.from({ length: CONCURRENCY }, async (_, j) => {
      const img = await decodeImage(images[(i + j) % images.length], manifest.input.width, manifest.input.height);
      rgbToTensor(img.rgb, manifest.input, batch, j * per);
    }));
    await model.run(batch, CONCURRENCY);
    i += CONCURRENCY;
    done += CONCURRENCY;
  }
  await model.release();
  return done / ((performance.now() - started) / 1000);
}

async function startServer(registryDir: string, stateDir: string, port: number, maxBatch: number): Promise<ChildProcess> {
  const child = spawn('node', ['bin/skywatch.mjs', 'api', '--registry', registryDir, '--port', String(port)], {
    env: { ...process.env, SKYWATCH_STATE_DIR: stateDir, SKYWATCH_MAX_BATCH: String(maxBatch), SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_INTRA_OP_THREADS: '2' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let t = 0; t < 200; t++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).status === 200) return child;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('server did not become ready');
}

function load(port: number, options: { duration?: number; amount?: number }) {
  return autocannon({
    url: `http://127.0.0.1:${port}/v1/predict`,
    connections: CONCURRENCY,
    ...options,
    requests: images.map((body) => ({ method: 'POST', headers: { 'content-type': 'image/jpeg' }, body })),
  });
}

async function rss(port: number): Promise<number> {
  const s = (await (await fetch(`http://127.0.0.1:${port}/v1/metrics/summary`)).json()) as { serving: { rssMb: number } };
  return s.serving.rssMb;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'sw-bench-'));
const { registryDir, modelPath, manifest } = await publishRealisticModel(dir);
console.log(`model: SqueezeNet 1.0 fp16 + head, ${(manifest.sizeBytes! / 1e6).toFixed(2)} MB; ${images.length} JPEGs; ${os.cpus().length} cores`);

const rawRate = await raw(modelPath, manifest);
console.log(`raw onnxruntime (decode + batch ${CONCURRENCY}): ${rawRate.toFixed(1)} images/s`);

const results: Record<string, { rps: number; p50: number; p99: number; errors: number }> = {};
for (const [name, maxBatch, port] of [['api', 16, 18601], ['api-b1', 1, 18602]] as const) {
  const child = await startServer(registryDir, path.join(dir, name), port, maxBatch);
  try {
    await load(port, { amount: 200 });
    const r = await load(port, { duration: SECONDS });
    results[name] = { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
    console.log(`${name} (max batch ${maxBatch}): ${r.requests.average.toFixed(1)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, errors ${r.errors + r.non2xx}`);
    if (name === 'api') {
      const before = await load(port, { amount: 2000 });
      const at2k = await rss(port);
      const after = await load(port, { amount: 8000 });
      const at10k = await rss(port);
      console.log(`RSS at request 2,000: ${at2k} MB, at 10,000: ${at10k} MB (growth ${(((at10k - at2k) / at2k) * 100).toFixed(1)}%), errors ${before.errors + before.non2xx + after.errors + after.non2xx}`);
    }
  } finally {
    child.kill('SIGTERM');
  }
}
console.log(`ratios: api/raw ${(results.api.rps / rawRate).toFixed(2)} (target >= 0.85), batched/batch-1 ${(results.api.rps / results['api-b1'].rps).toFixed(2)} (target >= 1.5)`);
