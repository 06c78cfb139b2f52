import { contextBox, cutCrop } from '../core/image/crop-pixels.js';
import { EVERY_FRAME, wantsCrop, type CropSchedule } from '../tracking/crop-schedule.js';
import { TrackJudge, type TrackAlertEvent } from '../tracking/track-judge.js';
import type { Track } from '../tracking/track.js';
import { Tracker, type TrackerOptions } from '../tracking/tracker.js';
import type { VerdictModel } from '../tracking/verdict-model.js';
import { stageTimer } from '../inference/stage-timer.js';
import type { CropResult } from '../queue/crop-results.js';
import type { DetailFrame } from './crop-stream.js';
import type { FramePool } from './frame-pool.js';
import { FrameRing } from './frame-ring.js';
import { WakeableDelay } from './wakeable-delay.js';
import { RECORDING_PATIENCE_MS, type FramePipeline, type FrameSink, type GateResult } from './frame-sink.js';
import { MotionDetector, type MotionOptions } from './motion.js';

export interface TrackedCameraOptions {
  cameraId: string;
  /** Unique per instance: results of an earlier connection of the same camera never reach this one. */
  pipelineId: string;
  owner: string;
  width: number;
  height: number;
  fps: number;
  sink: FrameSink;
  maxInFlight: number;
  motion?: Partial<MotionOptions>;
  tracker?: Partial<TrackerOptions>;
  crop: { context: number; minSide: number };
  /** Which of a track's frames are classified (default: all). */
  cropSchedule?: CropSchedule;
  /** Frames of this camera in flight from which it counts as behind (its crop schedule's pressureEvery applies); 0 or absent: never. */
  pressureInFlight?: number;
  /** The verdict model for crop probabilities over `labels` (the labels the workers' model answered with). */
  verdictFor: (labels: readonly string[]) => VerdictModel;
  threshold: number;
  alertLabels: readonly string[];
  minCrops: number;
  updateEveryMs: number;
  /** Re-identification window of the judge (TrackJudgeOptions.rejoinMs); absent: off. */
  rejoinMs?: number;
  /** Frames kept for snapshots and clips. */
  ringFrames: number;
  /** Where the decoded frames come from: frames leaving the ring go back to it. */
  frames?: FramePool;
  /** Capture times (the stream's timeline) as wall-clock moments, for what alerts report (FrameFormat.wallTime). */
  wallTime?: (capturedAt: number) => number;
  /** The frames are a recording's (FrameFormat.recording): its jobs carry no deadline, and its crops never thin under pressure. */
  recording?: boolean;
  /** Best crops kept per track (PNG evidence for feedback). */
  bestCrops: number;
  /** False for an object that may not alert here (outside the camera's alert zones): it is not cropped,
   * and its track's judge opens no alert while it is there. */
  admits?: (box: { x: number; y: number; width: number; height: number }) => boolean;
  /** Receives the alert events of this camera, in order (one call at a time). */
  publish: (camera: TrackedCamera, events: TrackAlertEvent[]) => Promise<void>;
  now?: () => number;
  onError?: (err: Error) => void;
}

interface TrackEntry {
  track: Track;
  /** Crops sent and not answered yet. */
  outstanding: number;
  ended: boolean;
  best: Array<{ score: number; rgb: Buffer; width: number; height: number }>;
}

interface PendingFrame {
  sentAt: number;
  crops: Map<number, { rgb: Buffer; width: number; height: number }>;
}

/** One track's crop of one frame: native pixels around its box (a box in main-frame pixels). */
interface Crop {
  trackId: number;
  box: { x: number; y: number; width: number; height: number };
  rgb: Buffer;
  width: number;
  height: number;
}

const timedVerdicts = new WeakMap<VerdictModel, VerdictModel>();
/** room(), finished(): how often the camera looks again without an answer to wake it. */
const ROOM_CHECK_MS = 50;

/** The verdict model with its judging counted as the `alert_rules` serving stage (skywatch_stage_seconds). */
function timed(model: VerdictModel): VerdictModel {
  let t = timedVerdicts.get(model);
  if (!t) {
    t = { cropLabels: model.cropLabels, labels: model.labels, judge: (...args) => stageTimer.time('alert_rules', () => model.judge(...args)) };
    timedVerdicts.set(model, t);
  }
  return t;
}

/**
 * One camera connection in the ingestor that owns the camera: motion regions -> the camera's Tracker
 * -> one native-resolution crop per observed confirmed track (contextBox + cutRgb, no resize) -> one
 * frame job. Scores come back from whichever worker took the job and go to the camera's TrackJudge in
 * the order of each track's points, so the verdicts, and the alerts, are the same with 1 or N workers.
 * Every point of a judged track gets exactly one answer: its scores, or null when its crop was
 * dropped (in-flight limit, queue down, worker deadline, no answer in time).
 */
export class TrackedCamera implements FramePipeline {
  readonly ring: FrameRing;
  readonly judge: TrackJudge;
  private detector: MotionDetector;
  private readonly tracker: Tracker;
  private readonly entries = new Map<number, TrackEntry>();
  private readonly pending = new Map<number, PendingFrame>();
  private labels: readonly string[] = [];
  /** Ends a wait in room() when an answer comes back. */
  private readonly answered = new WakeableDelay();
  private waitingForRoom = false;
  private publishing: Promise<void> = Promise.resolve();
  /** Publishes handed over and not yet written. */
  private readonly writing = new Set<Promise<void>>();
  /** Judge results not yet written (waiting for the judge, or for the publisher). */
  private unwritten = 0;
  modelVersion = '';
  lastFrameAt = 0;
  /** Capture time of the last frame processed. */
  private lastCapturedAt = -Infinity;
  closed = false;

  constructor(readonly options: TrackedCameraOptions) {
    this.detector = new MotionDetector(options.width, options.height, options.motion);
    this.tracker = new Tracker(options.width, options.height, options.tracker);
    this.ring = new FrameRing(options.ringFrames, options.frames);
    this.judge = new TrackJudge({
      verdict: () => timed(options.verdictFor(this.labels)),
      threshold: options.threshold,
      alertLabels: options.alertLabels,
      minCrops: options.minCrops,
      updateEveryMs: options.updateEveryMs,
      rejoinMs: options.rejoinMs,
      admits: options.admits,
      alertEvery: options.cropSchedule?.alertEvery,
      frameWidth: options.width,
      frameHeight: options.height,
    });
  }

  get cameraId(): string {
    return this.options.cameraId;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** A capture time of this camera's frames as the wall-clock moment it stands for. */
  wallTime(capturedAt: number): number {
    return this.options.wallTime?.(capturedAt) ?? capturedAt;
  }

  async process(rgb: Buffer, seq: number, capturedAt: number, detail?: DetailFrame): Promise<GateResult> {
    const o = this.options;
    this.lastFrameAt = this.now();
    this.lastCapturedAt = capturedAt;
    // Detection and tracking run on every frame, sent on or not, so the background and tracks stay current.
    const regions = this.detector.detect(rgb);
    this.ring.push({ seq, at: capturedAt, rgb });
    const { observed, ended } = this.tracker.update(regions, seq, capturedAt);
    const schedule = o.cropSchedule ?? EVERY_FRAME;
    const crops: Crop[] = [];
    /** Crops of earlier frames: the points of tracks confirmed in this frame. */
    const earlier = new Map<number, { capturedAt: number; crops: Crop[] }>();
    // Frames of this camera still being scored: past the bound, inference is behind and crops thin out.
    // Not a recording's: it waits for room instead (room()), so its crops, and its alerts, do not
    // depend on the machine's load.
    const behind = !o.recording && (o.pressureInFlight ?? 0) > 0 && o.sink.inFlight(o.cameraId) >= o.pressureInFlight!;
    for (const track of observed) {
      // Tentative tracks are flicker until confirmed: not worth a crop.
      if (!track.confirmed) continue;
      let entry = this.entries.get(track.id);
      if (!entry) {
        entry = { track, outstanding: 0, ended: false, best: [] };
        this.entries.set(track.id, entry);
        // Its points from before it was confirmed are cropped now, from their frames in the ring, as
        // training and the offline evaluation crop every point of a track (a verdict one frame sooner);
        // one whose frame has left the ring, or that would not be cropped anyway, is answered null, and
        // so are they all while the camera is behind (a recording never is): one crop more a track is
        // about a tenth more inference, which a backlog cannot spare.
        track.points.slice(0, -1).forEach((p, i) => {
          const frame = this.ring.at(p.at);
          if (behind || frame?.seq !== p.seq || (o.admits && !o.admits(p.box)) || !wantsCrop(i, schedule, null, behind)) {
            this.judged(this.judge.addScores(track, p.seq, null));
            return;
          }
          const box = contextBox(p.box, o.width, o.height, o.crop);
          const job = earlier.get(p.seq) ?? { capturedAt: p.at, crops: [] };
          job.crops.push({ trackId: track.id, box, ...cutCrop({ rgb: frame.rgb, width: o.width, height: o.height }, box) });
          earlier.set(p.seq, job);
        });
      }
      if (o.admits && !o.admits(track.last.box)) {
        // Outside the alert zones: not worth a crop, and its verdict could not alert.
        this.judged(this.judge.addScores(track, seq, null));
        continue;
      }
      if (!wantsCrop(track.points.length - 1, schedule, this.judge.openedAt(track.id), behind)) {
        this.judged(this.judge.addScores(track, seq, null));
        continue;
      }
      const box = contextBox(track.last.box, o.width, o.height, o.crop);
      // Boxes stay in main-frame pixels; a small object's pixels come from the crop stream when it has one.
      crops.push({ trackId: track.id, box, ...cutCrop({ rgb, width: o.width, height: o.height }, box, detail) });
    }
    for (const track of ended) {
      const entry = this.entries.get(track.id);
      if (!entry) continue;
      entry.ended = true;
      this.judged(this.judge.endTrack(track));
      this.forgetIfDone(entry);
    }
    // Held alerts may close now; a tentative track could still confirm, so time stops before its start.
    this.judged(this.judge.tick(Math.min(capturedAt, ...this.tracker.tracks.filter((t) => !t.confirmed).map((t) => t.firstAt - 1))));
    let result: GateResult = { outcome: 'gated', regions: regions.length };
    for (const [earlierSeq, job] of [...earlier].sort((a, b) => a[0] - b[0])) result = await this.send(earlierSeq, job.capturedAt, job.crops, regions.length);
    if (crops.length) result = await this.send(seq, capturedAt, crops, regions.length);
    return result;
  }

  /** Hands one frame's crops to the sink, or answers them null when it cannot take them. */
  private async send(seq: number, capturedAt: number, crops: Crop[], regions: number): Promise<GateResult> {
    const o = this.options;
    // A recording waited for room before the frame (room()); a frame that also sends a confirmed
    // track's earlier crops may pass the bound by those.
    if (!o.recording && o.sink.inFlight(o.cameraId) >= o.maxInFlight) {
      for (const c of crops) this.answer(seq, c.trackId, null);
      return { outcome: 'dropped', reason: 'in_flight', regions };
    }
    // Registered before the job exists: its answer can come back before submit returns. A frame may
    // already be out with other tracks' crops (this one's are a track's points from before it was
    // confirmed): they share its entry, each crop answered by its own job.
    const frame = this.pending.get(seq) ?? { sentAt: 0, crops: new Map() };
    frame.sentAt = this.now();
    for (const c of crops) frame.crops.set(c.trackId, c);
    this.pending.set(seq, frame);
    for (const c of crops) this.entries.get(c.trackId)!.outstanding++;
    const outcome = await o.sink.submit({ cameraId: o.cameraId, pipeline: o.pipelineId, owner: o.owner, seq, capturedAt, width: o.width, height: o.height, crops, ...(o.recording ? { recording: true } : {}) });
    if (outcome === 'dropped') {
      for (const c of crops) this.answer(seq, c.trackId, null);
      return { outcome, reason: 'sink', regions };
    }
    return { outcome, regions };
  }

  /**
   * Resolves once fewer than `maxInFlight` of this camera's frames are being scored, so the next frame
   * handed over keeps its crops (or when `signal` aborts). Woken by answers; checked at least every
   * ROOM_CHECK_MS too, since the sink's count may fall a moment after the answer arrives (the queue's
   * completion event) or without one (a lost job's pixels expiring).
   */
  async room(signal: AbortSignal): Promise<void> {
    const { sink, cameraId, maxInFlight } = this.options;
    this.waitingForRoom = true;
    try {
      while (!signal.aborted && !this.closed && sink.inFlight(cameraId) >= maxInFlight) await this.answered.wait(ROOM_CHECK_MS);
    } finally {
      this.waitingForRoom = false;
      // The wait was not the camera going quiet (endIdle).
      this.lastFrameAt = this.now();
    }
  }

  /**
   * After close(): resolves once every crop sent has its answer (or was given up: expire()) and every
   * alert event is written, or when `signal` aborts.
   */
  async finished(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.drained) {
      await this.answered.wait(ROOM_CHECK_MS);
      await this.settled();
    }
  }

  /** Scores of one frame's crops from a worker. Answers to crops no longer awaited are ignored. */
  onResult(result: CropResult): void {
    if (result.labels.length && result.labels.join('\u0000') !== this.labels.join('\u0000')) this.labels = result.labels;
    if (result.modelVersion) this.modelVersion = result.modelVersion;
    this.answered.wake();
    const frame = this.pending.get(result.seq);
    if (!frame) return;
    for (const c of result.crops) {
      if (!frame.crops.has(c.trackId)) continue;
      this.answer(result.seq, c.trackId, c.probabilities);
    }
  }

  /**
   * Crops sent longer than `timeoutMs` ago without an answer count as dropped (a worker died, Redis lost
   * them); a recording's wait as long as its frames may (RECORDING_PATIENCE_MS), as they have no deadline.
   */
  expire(timeoutMs: number): void {
    const cutoff = this.now() - (this.options.recording ? Math.max(timeoutMs, RECORDING_PATIENCE_MS) : timeoutMs);
    for (const [seq, frame] of this.pending) if (frame.sentAt < cutoff) this.failFrame(seq);
  }

  /** No frame for a while (wall clock): the camera stopped sending, so its tracks end now. */
  endIdle(idleMs: number): void {
    if (this.waitingForRoom) return;
    if (this.lastFrameAt && this.now() - this.lastFrameAt >= idleMs && this.tracker.tracks.length) this.endAll();
  }

  /**
   * A looping file's next pass: its tracks end (their alerts close) and motion starts over with the
   * next frame as its background, so the pass is judged as the file played once. Track ids go on
   * counting (alert keys stay unique). A pipeline made anew for every pass allocated the camera's
   * frame buffers again: its ring is about 50 frames of 1 MB at 640x512.
   */
  restart(): void {
    this.endAll();
    // Nothing of the next pass continues an alert of this one (rejoin), and those close once judged.
    this.judged(this.judge.fence(this.lastCapturedAt));
    this.detector = new MotionDetector(this.options.width, this.options.height, this.options.motion);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.endAll();
    await this.settled();
  }

  /** Nothing outstanding, no track left and every alert event written: the owner may forget this pipeline. */
  get drained(): boolean {
    return this.closed && this.pending.size === 0 && this.entries.size === 0 && this.unwritten === 0;
  }

  /** The best crops of the given tracks so far (one alert's tracks), highest alert-label score first. */
  bestCrops(trackIds: readonly number[]): Array<{ rgb: Buffer; width: number; height: number }> {
    const all = trackIds.flatMap((id) => this.entries.get(id)?.best ?? this.finishedBest.get(id) ?? []);
    return all.sort((a, b) => b.score - a.score).slice(0, this.options.bestCrops);
  }

  /** Waits until every event so far has been published. */
  async settled(): Promise<void> {
    await this.publishing;
    await Promise.all([...this.writing]);
  }

  private readonly finishedBest = new Map<number, TrackEntry['best']>();

  private endAll(): void {
    for (const track of this.tracker.endAll()) {
      const entry = this.entries.get(track.id);
      if (!entry) continue;
      entry.ended = true;
      this.judged(this.judge.endTrack(track));
      this.forgetIfDone(entry);
    }
    this.judged(this.judge.flush());
  }

  private failFrame(seq: number): void {
    const frame = this.pending.get(seq);
    if (!frame) return;
    for (const trackId of [...frame.crops.keys()]) this.answer(seq, trackId, null);
  }

  private answer(seq: number, trackId: number, probabilities: number[] | null): void {
    const entry = this.entries.get(trackId);
    const frame = this.pending.get(seq);
    const crop = frame?.crops.get(trackId);
    if (frame) {
      frame.crops.delete(trackId);
      if (frame.crops.size === 0) this.pending.delete(seq);
    }
    if (!entry) return;
    if (crop) entry.outstanding--;
    if (probabilities && crop) this.keepBest(entry, crop, probabilities);
    const ordered = probabilities ? this.inVerdictOrder(probabilities) : null;
    this.judged(this.judge.addScores(entry.track, seq, ordered));
    this.forgetIfDone(entry);
  }

  private inVerdictOrder(probabilities: number[]): Float32Array {
    const verdict = this.options.verdictFor(this.labels);
    return Float32Array.from(verdict.cropLabels.map((l) => probabilities[this.labels.indexOf(l)] ?? 0));
  }

  private keepBest(entry: TrackEntry, crop: { rgb: Buffer; width: number; height: number }, probabilities: number[]): void {
    const k = this.options.bestCrops;
    if (k <= 0) return;
    const score = Math.max(0, ...this.options.alertLabels.map((l) => probabilities[this.labels.indexOf(l)] ?? 0));
    entry.best.push({ score, ...crop });
    entry.best.sort((a, b) => b.score - a.score);
    if (entry.best.length > k) entry.best.length = k;
  }

  private forgetIfDone(entry: TrackEntry): void {
    if (!entry.ended || entry.outstanding > 0) return;
    this.entries.delete(entry.track.id);
    // The closing event (published later, in order) still wants the track's crops.
    this.finishedBest.set(entry.track.id, entry.best);
    if (this.finishedBest.size > 64) this.finishedBest.delete(this.finishedBest.keys().next().value!);
  }

  /**
   * Events of the judge are handed to the publisher in the order the judge produced them. The
   * publisher keeps each alert's events in order but lets alerts proceed side by side, so this does
   * not wait for the writes: a slow one (a closing alert's clip) must not delay other tracks' alerts.
   */
  private judged(events: Promise<TrackAlertEvent[]>): void {
    this.unwritten++;
    this.publishing = this.publishing.then(async () => {
      try {
        const ev = await events;
        if (!ev.length) {
          this.unwritten--;
          return;
        }
        const written: Promise<void> = this.options.publish(this, ev)
          .catch((err: unknown) => this.options.onError?.(err as Error))
          .finally(() => {
            this.unwritten--;
            this.writing.delete(written);
          });
        this.writing.add(written);
      } catch (err) {
        this.unwritten--;
        this.options.onError?.(err as Error);
      }
    });
  }
}
