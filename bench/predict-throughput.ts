/**
 * Serving benchmark (npm run bench:predict): in one run, on one model (SqueezeNet + head, 2 threads),
 * the same JPEGs from ../shared/data/images/valid:
 *   raw    onnxruntime-node, decode (overlapped) + batch of 16 + run, no HTTP: the ceiling
 *   api    POST /v1/predict at concurrency 16 with micro-batching (max batch 16)
 *   api-b1 the same with max batch 1
 * taking turns in rounds, then p99 latency, and the server's RSS at request 2,000 and 10,000.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { OnnxModel } from '../inference/onnx-model.js';
import { decodeImage, rgbToTensor } from '../inference/preprocess.js';
import { publishRealisticModel } from './support/realistic-model.js';

const VALID = path.resolve('../shared/data/images/valid');
const CONCURRENCY = 16;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);

const files = ['bird', 'drone'].flatMap((l) => readdirSync(path.join(VALID, l)).slice(0, 40).map((f) => path.join(VALID, l, f)));
const images = files.map((f) => readFileSync(f));

/** Decodes and lays out one batch of `CONCURRENCY` images, starting at image `start`. */
async function prepare(manifest: Parameters<typeof OnnxModel.load>[1], start: number): Promise<Float32Array> {
  const per = 3 * manifest.input.width * manifest.input.height;
  const batch = new Float32Array(CONCURRENCY * per);
  await Promise.all(Array.from({ length: CONCURRENCY }, async (_, j) => {
    const img = await decodeImage(images[(start + j) % images.length], manifest.input.width, manifest.input.height);
    rgbToTensor(img.rgb, manifest.input, batch, j * per);
  }));
  return batch;
}

/** The ceiling: decode of the next batch overlaps inference of this one, no HTTP, no queueing. */
async function raw(modelPath: string, manifest: Parameters<typeof OnnxModel.load>[1]): Promise<number> {
  const model = await OnnxModel.load(modelPath, manifest, { intraOpThreads: 2 });
  await model.warmup(CONCURRENCY);
  const started = performance.now();
  const until = started + SECONDS * 1000;
  let done = 0;
  let next = prepare(manifest, 0);
  while (performance.now() < until) {
    const batch = await next;
    next = prepare(manifest, done + CONCURRENCY);
    await model.run(batch, CONCURRENCY);
    done += CONCURRENCY;
  }
  const elapsed = (performance.now() - started) / 1000;
  await next;
  await model.release();
  return done / elapsed;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    }).on('error', reject);
  });
}

async function startServer(registryDir: string, stateDir: string, port: number, maxBatch: number): Promise<ChildProcess> {
  const child = spawn('node', ['bin/skywatch.mjs', 'api', '--registry', registryDir, '--port', String(port)], {
    env: { ...process.env, SKYWATCH_STATE_DIR: stateDir, SKYWATCH_MAX_BATCH: String(maxBatch), SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_INTRA_OP_THREADS: '2' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited: number | null = null;
  child.once('exit', (code, signal) => {
    exited = code ?? -1;
    console.log(`server on port ${port} exited (code ${code}, signal ${signal})`);
  });
  for (let t = 0; t < 300; t++) {
    // Another process on the port would answer for a server that failed to start.
    if (exited !== null) throw new Error(`server exited with ${exited} before it was ready`);
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

async function summary(port: number): Promise<{ rssMb: number; predictions: number }> {
  const s = (await (await fetch(`http://127.0.0.1:${port}/v1/metrics/summary`)).json()) as { serving: { rssMb: number; predictions: number } };
  return s.serving;
}

/** Loads the server until it has answered `total` predictions since it started, then reads its RSS. */
async function rssAt(port: number, total: number): Promise<{ rssMb: number; errors: number }> {
  const served = (await summary(port)).predictions;
  const r = total > served ? await load(port, { amount: total - served }) : null;
  return { rssMb: (await summary(port)).rssMb, errors: r ? r.errors + r.non2xx : 0 };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'sw-bench-'));
const { registryDir, modelPath, manifest } = await publishRealisticModel(dir);
console.log(`model: SqueezeNet 1.0 fp16 + head, ${(manifest.sizeBytes! / 1e6).toFixed(2)} MB; ${images.length} JPEGs; ${os.cpus().length} cores`);

// The machine is shared and its load changes by the minute, so the three set-ups take turns in short
// rounds (order rotated each round) and each ratio is taken within a round; the median is reported.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const servers = { api: { maxBatch: 16, port: await freePort() }, 'api-b1': { maxBatch: 1, port: await freePort() } };
const children: ChildProcess[] = [];
try {
  for (const [name, s] of Object.entries(servers)) children.push(await startServer(registryDir, path.join(dir, name), s.port, s.maxBatch));
  for (const s of Object.values(servers)) await load(s.port, { amount: 200 });
  type Phase = 'raw' | keyof typeof servers;
  const phases: Phase[] = ['raw', 'api', 'api-b1'];
  const rounds: Array<Record<Phase, { rate: number; p50?: number; p99?: number; errors?: number }>> = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round = {} as (typeof rounds)[number];
    for (let k = 0; k < phases.length; k++) {
      const phase = phases[(k + r) % phases.length];
      if (phase === 'raw') round.raw = { rate: await raw(modelPath, manifest) };
      else {
        const res = await load(servers[phase].port, { duration: SECONDS });
        round[phase] = { rate: res.requests.average, p50: res.latency.p50, p99: res.latency.p99, errors: res.errors + res.non2xx };
      }
    }
    rounds.push(round);
    console.log(`round ${r + 1}: raw ${round.raw.rate.toFixed(1)} images/s; api ${round.api.rate.toFixed(1)} req/s (p50 ${round.api.p50} ms, p99 ${round.api.p99} ms, errors ${round.api.errors}); api max batch 1 ${round['api-b1'].rate.toFixed(1)} req/s (p99 ${round['api-b1'].p99} ms, errors ${round['api-b1'].errors}); api/raw ${(round.api.rate / round.raw.rate).toFixed(2)}, batched/batch-1 ${(round.api.rate / round['api-b1'].rate).toFixed(2)}`);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const apiRaw = median(rounds.map((r) => r.api.rate / r.raw.rate));
  const batched = median(rounds.map((r) => r.api.rate / r['api-b1'].rate));

  const at2k = await rssAt(servers.api.port, 2000);
  const at10k = await rssAt(servers.api.port, 10_000);
  const growth = (at10k.rssMb - at2k.rssMb) / at2k.rssMb;
  console.log(`RSS of the api server at request 2,000: ${at2k.rssMb} MB, at 10,000: ${at10k.rssMb} MB, errors ${at2k.errors + at10k.errors}`);
  // On the CPU ONNX Runtime costs the same per image at any batch size, so batching is not there to
  // speed images up: it must simply never be slower than batch 1.
  console.log(`median ratios over ${ROUNDS} rounds: api/raw ${apiRaw.toFixed(2)} (target >= 0.95: ${apiRaw >= 0.95 ? 'met' : 'MISSED'}), batched/batch-1 ${batched.toFixed(2)} (target: never slower than batch 1, >= 1.00: ${batched >= 1 ? 'met' : 'MISSED'}); RSS growth ${(growth * 100).toFixed(1)}% (target <= 10%); api p99 median ${median(rounds.map((r) => r.api.p99!))} ms`);
} finally {
  await Promise.all(children.map(stop));
}
