/**
 * Costs of the MLOps parts (issue 11), recorded in docs/BENCHMARKS.md:
 *  - clip prediction: a 10 s clip of ../shared/data/videos through POST /v1/predict/clip's code path
 *    (decode at 5 fps, motion, tracker, crops, the realistic SqueezeNet model, verdicts), median of 3;
 *  - drift: the per-crop sample and a per-camera comparison of a 300-crop window with a baseline;
 *  - a sweep: wall time of a 4-trial transfer grid on images/valid (embeddings cached after trial 1).
 *
 *   npm run bench:mlops [-- --skip-sweep]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeFrames } from '../ingest/frame-decoder.js';
import { silentLogger } from '../core/logger.js';
import { ModelRegistry } from '../core/model/registry.js';
import { LocalStore } from '../core/storage/local-store.js';
import { buildDriftBaseline } from '../drift/drift-baseline.js';
import { DriftMonitor } from '../drift/drift-monitor.js';
import { computeDriftSample, type DriftSample } from '../drift/drift-sample.js';
import { predictClipUpload } from '../inference/clip-upload.js';
import { MicroBatcher } from '../inference/micro-batcher.js';
import { ModelHolder } from '../inference/model-holder.js';
import { Predictor } from '../inference/predictor.js';
import { runSweep } from '../trainer/sweep/run-sweep.js';
import { parseSweepSpec } from '../trainer/sweep/sweep-spec.js';
import { publishRealisticModel, SQUEEZENET } from './support/realistic-model.js';

const { values } = parseArgs({ options: { 'skip-sweep': { type: 'boolean', default: false } } });
const CLIP = path.resolve('../shared/data/videos/drone/V_DRONE_002.mp4');
if (!existsSync(CLIP) || !existsSync(SQUEEZENET)) {
  console.error('bench:mlops needs ../shared/data (videos and backbones); not found, nothing measured');
  process.exit(0);
}
const dir = await mkdtemp(path.join(os.tmpdir(), 'skywatch-bench-mlops-'));
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
try {
  console.log(`bench:mlops ${new Date().toISOString()}, ${os.cpus().length} cores, load average ${load()}`);
  // Clip prediction.
  const { registryDir } = await publishRealisticModel(dir);
  const holder = new ModelHolder({ registry: new ModelRegistry(new LocalStore(registryDir)), cacheDir: path.join(dir, 'cache'), threads: { intraOpThreads: 2, interOpThreads: 1 }, pollIntervalMs: 3_600_000, logger: silentLogger });
  await holder.reload(true);
  const predictor = new Predictor(holder, new MicroBatcher({ maxBatch: 16, maxWaitMs: 2 }), { maxPixels: 1e8 });
  const body = await readFile(CLIP);
  const times: number[] = [];
  let last;
  for (let i = 0; i < 3; i++) {
    last = await predictClipUpload(body, { holder, predictor }, { maxBytes: 1e9, maxSeconds: 60, maxFrames: 1e5, maxPixels: 1e8 }, { fps: 5 });
    times.push(last.seconds);
  }
  await holder.stop();
  console.log(`clip predict: ${path.basename(CLIP)} (${(last!.durationMs / 1000).toFixed(1)} s, ${last!.width}x${last!.height}, ${last!.frames} frames at 5 fps, ${last!.tracks.length} tracks): median ${median(times).toFixed(2)} s of 3 (${times.map((t) => t.toFixed(2)).join(', ')}), load ${load()}`);

  // Drift: per-crop sample and per-camera comparison.
  let rgb = Buffer.alloc(224 * 224 * 3, 128);
  for await (const f of decodeFrames(CLIP, { fps: 1, width: 224, height: 224 })) {
    rgb = Buffer.from(f.data);
    break;
  }
  const probs = [0.3, 0.7];
  let s0 = performance.now();
  const samples: DriftSample[] = [];
  for (let i = 0; i < 2000; i++) {
    rgb[i % rgb.length] = (i * 7) & 255;
    samples.push(computeDriftSample({ rgb, width: 224, height: 224 }, probs, ['bird', 'drone'], { objectSize: 40 + (i % 50) }));
  }
  const perSampleUs = ((performance.now() - s0) * 1000) / 2000;
  const baseline = buildDriftBaseline(samples.slice(0, 600), { model: 'bench', source: 'bench', labels: ['bird', 'drone'] });
  const monitor = new DriftMonitor({ method: 'both', psiThreshold: 0.25, ksPValue: 0.001, minDriftedFeatures: 1, includeScores: false, minEffect: 0.2, window: 300, minSamples: 100, everySamples: 50, eventCooldownMs: 60_000 });
  monitor.setBaseline(baseline);
  for (const s of samples.slice(0, 300)) monitor.observe('cam', s);
  s0 = performance.now();
  for (let i = 0; i < 50; i++) monitor.checkNow('cam');
  const perCompareMs = (performance.now() - s0) / 50;
  console.log(`drift: sample ${perSampleUs.toFixed(0)} us per 224x224 crop; comparison of a 300-crop window, ${Object.keys(baseline.features).length} features, PSI + KS: ${perCompareMs.toFixed(2)} ms; per camera at 5 crops/s with a comparison every 50 crops: ${((5 * perSampleUs) / 1000 + (5 / 50) * perCompareMs).toFixed(2)} ms of CPU per second, load ${load()}`);

  if (!values['skip-sweep']) {
    const spec = parseSweepSpec(JSON.stringify({ method: 'grid', parameters: { learningRate: [0.001, 0.003], tta: ['none', 'hflip'] } }), 'bench');
    const t0 = performance.now();
    const sweep = await runSweep(spec, { data: path.resolve('../shared/data/images/valid'), stateDir: path.join(dir, 'state'), registry: path.join(dir, 'sweep-registry'), mode: 'transfer', backbone: SQUEEZENET, epochs: 30, cacheDir: path.join(dir, 'embeddings'), publish: true, seed: 1 });
    console.log(`sweep: 4-trial transfer grid (learningRate x tta) on images/valid (442, generated splits): ${((performance.now() - t0) / 60000).toFixed(1)} min wall; trials ${sweep.trials.map((t) => `${t.seconds.toFixed(0)} s`).join(', ')}; best trial ${sweep.best?.trial} published: ${sweep.decision?.promoted}, load ${load()}`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
