import type { Box } from '../core/image/crop-pixels.js';
import { contextBox, cutRgb } from '../core/image/crop-pixels.js';
import type { RawFrame } from '../ingest/frame-decoder.js';
import { trackClip } from '../tracking/clip-tracks.js';
import { TrackJudge, type TrackAlertEvent } from '../tracking/track-judge.js';
import type { Verdict } from '../tracking/verdict-model.js';
import type { ModelHolder } from './model-holder.js';
import type { Predictor } from './predictor.js';

export interface ClipTrackResult {
  id: number;
  firstMs: number;
  lastMs: number;
  points: Array<{ at: number; box: Box }>;
  verdict: Verdict | null;
  /** The track opened an alert (its verdict passed the policy's threshold for an alert label). */
  alerted: boolean;
}

export interface ClipPrediction {
  modelVersion: string;
  frames: number;
  width: number;
  height: number;
  fps: number;
  /** Confirmed tracks, in order of appearance. */
  tracks: ClipTrackResult[];
  events: TrackAlertEvent[];
  /** Some track of the clip was judged a drone (an alert label) under the model's policy. */
  drone: boolean;
  firstAlertMs: number | null;
}

export interface ClipPredictOptions {
  fps?: number;
  threshold?: number;
  minCrops?: number;
  alertLabels?: string[];
  signal?: AbortSignal;
}

/**
 * A clip through the stages a camera's frames take (motion, tracker, native crops, the crop model
 * through the shared batcher, the track judge with the model's verdict), offline: what a camera
 * would have said about it, track by track.
 */
export async function predictClip(source: string | AsyncIterable<RawFrame> | Iterable<RawFrame>, deps: { holder: ModelHolder; predictor: Predictor }, options: ClipPredictOptions = {}): Promise<ClipPrediction> {
  const lease = deps.holder.acquire();
  try {
    const policy = lease.manifest.track?.policy;
    const fps = options.fps ?? lease.manifest.track?.fps ?? 5;
    let judge: TrackJudge | null = null;
    const events: TrackAlertEvent[] = [];
    const tracks = new Map<number, ClipTrackResult>();
    let frames = 0;
    let width = 0;
    let height = 0;
    for await (const step of trackClip(source, { fps, signal: options.signal })) {
      ({ width, height } = step.frame);
      frames = Math.max(frames, step.seq);
      judge ??= new TrackJudge({
        verdict: lease.verdict,
        threshold: options.threshold ?? policy?.threshold ?? 0.7,
        minCrops: options.minCrops ?? policy?.minCrops ?? 3,
        alertLabels: options.alertLabels ?? policy?.alertLabels ?? ['drone'],
        updateEveryMs: 1_000,
        frameWidth: width,
        frameHeight: height,
      });
      const j = judge;
      // Every crop of the frame at once: they share inference batches.
      const scored = await Promise.all(step.observed.map(async (track) => {
        const box = contextBox(track.last.box, width, height);
        const p = await deps.predictor.predictRgb(cutRgb(step.frame.data, width, box), box.width, box.height);
        return { track, seq: track.last.seq, probs: Float32Array.from(lease.manifest.labels, (l) => p.scores[l] ?? 0) };
      }));
      for (const s of scored) events.push(...(await j.addScores(s.track, s.seq, s.probs)));
      for (const track of step.observed) {
        if (!track.confirmed) continue;
        const rec = tracks.get(track.id) ?? { id: track.id, firstMs: track.firstAt, lastMs: track.lastAt, points: [], verdict: null, alerted: false };
        rec.lastMs = track.lastAt;
        rec.points = track.points.map((p) => ({ at: p.at, box: p.box }));
        rec.verdict = j.verdictOf(track.id) ?? rec.verdict;
        tracks.set(track.id, rec);
      }
      for (const track of step.ended) events.push(...(await j.endTrack(track)));
    }
    for (const e of events) {
      const rec = tracks.get(e.trackId);
      if (!rec) continue;
      if (e.kind === 'open') rec.alerted = true;
      rec.verdict = { label: e.label, score: e.score, scores: e.scores };
    }
    const opens = events.filter((e) => e.kind === 'open');
    return {
      modelVersion: lease.version,
      frames,
      width,
      height,
      fps,
      tracks: [...tracks.values()].sort((a, b) => a.firstMs - b.firstMs || a.id - b.id),
      events,
      drone: opens.length > 0,
      firstAlertMs: opens.length ? Math.min(...opens.map((e) => e.lastAt)) : null,
    };
  } finally {
    lease.release();
  }
}
