import sharp from 'sharp';
import { SkywatchError } from '../core/errors.js';
import { snapshotJpeg } from '../ingest/evidence.js';
import { MeanVerdict } from '../tracking/mean-verdict.js';
import { Track } from '../tracking/track.js';
import { TrackJudge } from '../tracking/track-judge.js';
import type { Logger } from '../core/logger.js';
import type { ModelRegistry } from '../core/model/registry.js';
import { MicroBatcher } from './micro-batcher.js';
import { ModelHolder } from './model-holder.js';
import type { SessionThreads } from './onnx-model.js';
import { Predictor } from './predictor.js';
import { SERVING_STAGES, stageTimer, type ServingStage, type StageStats } from './stage-timer.js';

export interface ServingProfile {
  source: string;
  model: string | null;
  requests: number;
  stages: Partial<Record<ServingStage, StageStats>>;
}

/**
 * `skywatch doctor --profile` without a server: loads the registry's latest model and drives the real
 * serving code (predictor, micro-batcher, a camera's track judge, snapshot) with `requests` images and camera
 * crops, then reads the stage timer. Numbers are this machine's, with its current load.
 */
export async function profileServing(options: { registry: ModelRegistry; cacheDir: string; threads: SessionThreads; logger: Logger; requests?: number; maxBatch?: number }): Promise<ServingProfile> {
  const requests = options.requests ?? 64;
  const holder = new ModelHolder({ registry: options.registry, cacheDir: options.cacheDir, threads: options.threads, pollIntervalMs: 3_600_000, logger: options.logger });
  const outcome = await holder.reload(true);
  if (!holder.current) throw new SkywatchError('NO_MODEL', `no model to profile (reload: ${outcome}${holder.lastError ? `, ${holder.lastError}` : ''})`);
  const batcher = new MicroBatcher({ maxBatch: options.maxBatch ?? 16, maxWaitMs: 2 });
  const predictor = new Predictor(holder, batcher, { maxPixels: 40_000_000 });
  const labels = holder.current.manifest.labels;
  // One long track judged crop after crop, as a camera's owner judges it (the mean verdict: no track model needed).
  const judge = new TrackJudge({ verdict: new MeanVerdict(labels), threshold: 0.5, alertLabels: labels, minCrops: 2, updateEveryMs: 1_000, frameWidth: 640, frameHeight: 512 });
  const frame = await sharp({ create: { width: 640, height: 512, channels: 3, background: { r: 120, g: 160, b: 210 } } })
    .composite([{ input: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="512"><rect x="300" y="220" width="40" height="12" fill="#222"/></svg>') }])
    .jpeg({ quality: 85 }).toBuffer();
  const crop = await sharp(frame).extract({ left: 272, top: 178, width: 96, height: 96 }).raw().toBuffer();
  const frameRgb = await sharp(frame).raw().toBuffer();
  const box = { x: 300, y: 220, width: 40, height: 12 };
  let track: Track | null = null;
  stageTimer.reset();
  try {
    // Four in flight, as a few clients or cameras would keep the batcher busy.
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < requests) {
        const i = next++;
        // Points join the track in order; their scores may come back in any order (the judge sorts them).
        const point = { seq: i, at: i * 200, box, area: 480 };
        if (track) track.points.push(point);
        else track = new Track(1, point);
        const p = i % 2 === 0 ? await predictor.predict(frame) : await predictor.predictRgb(crop, 96, 96);
        const probabilities = Float32Array.from(labels.map((l) => p.scores[l] ?? 0));
        const events = await stageTimer.time('alert_rules', () => judge.addScores(track!, i, probabilities));
        if (i % 4 === 0 || events.length > 0) await stageTimer.time('snapshot', () => snapshotJpeg(frameRgb, 640, 512, box, [], p.label));
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    return { source: 'local', model: holder.current.version, requests, stages: stageTimer.stats() };
  } finally {
    await holder.stop();
  }
}

/** Reads `skywatch_stage_seconds` from a running server's /metrics: count and mean per stage since it started. */
export async function profileFromServer(server: string, token?: string): Promise<ServingProfile> {
  const res = await fetch(new URL('/metrics', server), { headers: token ? { authorization: `Bearer ${token}` } : {} }).catch((err: Error) => {
    throw new SkywatchError('DEPENDENCY_UNAVAILABLE', `cannot reach ${server}: ${err.message}`);
  });
  if (!res.ok) throw new SkywatchError('DEPENDENCY_UNAVAILABLE', `${server}/metrics answered ${res.status}`);
  const text = await res.text();
  const read = (suffix: string): Map<string, number> => new Map([...text.matchAll(new RegExp(`^skywatch_stage_seconds_${suffix}\\{stage="([a-z_]+)"\\} ([0-9.eE+-]+)$`, 'gm'))].map((m) => [m[1], Number(m[2])]));
  const sums = read('sum');
  const counts = read('count');
  const stages: ServingProfile['stages'] = {};
  for (const stage of SERVING_STAGES) {
    const n = counts.get(stage) ?? 0;
    if (n === 0) continue;
    const mean = Math.round(((sums.get(stage) ?? 0) / n) * 1e6) / 1000;
    // The histogram keeps buckets, not samples: only the mean is exact.
    stages[stage] = { count: n, meanMs: mean, p50Ms: Number.NaN, p95Ms: Number.NaN, maxMs: Number.NaN };
  }
  const model = /^skywatch_model_loaded\{version="([^"]+)"\} 1$/m.exec(text)?.[1] ?? null;
  return { source: server, model, requests: Math.max(0, ...[...counts.values()]), stages };
}

export function formatServingProfile(p: ServingProfile): string {
  const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');
  const lines = [`serving profile (${p.source}, model ${p.model ?? '–'}, ${p.requests} requests)`, `${'stage'.padEnd(13)}${'count'.padStart(8)}${'mean ms'.padStart(10)}${'p50 ms'.padStart(10)}${'p95 ms'.padStart(10)}${'max ms'.padStart(10)}`];
  for (const stage of SERVING_STAGES) {
    const s = p.stages[stage];
    lines.push(s ? `${stage.padEnd(13)}${String(s.count).padStart(8)}${f(s.meanMs).padStart(10)}${f(s.p50Ms).padStart(10)}${f(s.p95Ms).padStart(10)}${f(s.maxMs).padStart(10)}` : `${stage.padEnd(13)}${'0'.padStart(8)}   (not exercised)`);
  }
  return lines.join('\n');
}
