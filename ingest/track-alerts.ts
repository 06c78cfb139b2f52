import { encodePng, type Box } from '../core/image/crop-pixels.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Alert, AlertInput, AlertStream } from '../queue/alert-stream.js';
import type { OpenAlert, OpenAlerts } from '../queue/open-alerts.js';
import type { TrackAlertEvent } from '../tracking/track-judge.js';
import { stageTimer } from '../inference/stage-timer.js';
import { ClipRefused, type ClipEncoder } from './clip-encoder.js';
import { snapshotJpeg } from './evidence.js';
import type { TrackedCamera } from './tracked-camera.js';

export interface TrackAlertPublisherOptions {
  stream: AlertStream;
  openAlerts: OpenAlerts;
  /** Every event after the stream stored it (the sink list: webhook, MQTT, review store). */
  deliver?: (alert: Alert) => Promise<void>;
  /** Seconds of evidence clip (0: no clips). */
  clipSeconds: number;
  /** Encodes the evidence clips (required when clipSeconds > 0). */
  clips?: ClipEncoder;
  logger?: Logger;
}

interface AlertState {
  alertId: string;
  /** Entry id whose snapshot the alert shows now. */
  snapshotOf?: string;
  clipOf?: string;
  clip: Promise<void>;
  /** Aborted when the alert closes: its first clip, still waiting for the encoder, is not needed. */
  firstClip: AbortController;
}

export interface PublisherCounters {
  opened: number;
  updated: number;
  closed: number;
  /** Verdicts that would have opened an alert with a score of 0 or a box covering the whole frame. */
  suppressed: number;
  /** Alerts left open by an earlier owner (a crash, a restart) that this one closed. */
  orphansClosed: number;
  /**
   * First clips not encoded: their alert closed before the encoder got to them, or the encoder was
   * already behind when they were asked for (the closing clip covers them).
   */
  clipsSkipped: number;
  /** Closing clips not encoded because the encoder was far behind (the alert keeps its first clip, if any). */
  clipsDropped: number;
}

/** A box that covers (nearly) the whole frame is a light change or a camera move, not an object. */
function wholeFrame(box: Box, width: number, height: number): boolean {
  return box.width >= 0.95 * width && box.height >= 0.95 * height;
}

/**
 * Turns a camera's track alert events into alert stream entries: one alert per track, with its
 * snapshot (box and path drawn) encoded on open and update only, an evidence clip encoded when it
 * opens and again when it closes, the track's best crops stored on close, and its open state kept in
 * Redis so whoever takes the camera over can close it after a crash. The closing event carries the
 * alertId and the snapshot of the alert it closes.
 */
export class TrackAlertPublisher {
  readonly counters: PublisherCounters = { opened: 0, updated: 0, closed: 0, suppressed: 0, orphansClosed: 0, clipsSkipped: 0, clipsDropped: 0 };
  private readonly states = new Map<string, AlertState | 'suppressed'>();
  /** Per alert key: the last queued write, so the alert's events go out in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly logger: Logger;

  constructor(private readonly options: TrackAlertPublisherOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Evidence clips waiting for the encoder (0 without clips). */
  get clipsWaiting(): number {
    return this.options.clips?.queued ?? 0;
  }

  /**
   * Queues the events (in the order given) and resolves once they are all written. Events of one
   * alert are written in order, one at a time; different alerts do not wait for each other, so a
   * closing alert encoding its clip never holds up another track's alert opening.
   */
  publish(cam: TrackedCamera, events: TrackAlertEvent[]): Promise<void> {
    return Promise.all(events.map((e) => {
      const key = this.key(cam, e.trackId);
      const next = (this.chains.get(key) ?? Promise.resolve()).then(() => this.one(cam, e)).catch((err: unknown) => {
        this.logger.error({ err, camera: cam.cameraId, track: e.trackId }, 'could not write an alert');
      });
      this.chains.set(key, next);
      void next.then(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      });
      return next;
    })).then(() => undefined);
  }

  /** Closes the alerts an earlier owner of the camera left open. */
  async closeOrphans(cameraId: string): Promise<number> {
    const left = await this.options.openAlerts.takeAll(cameraId);
    for (const a of left) {
      const { lastEventId: _last, ...input } = a;
      const alert = await this.options.stream.add({ ...input, status: 'closed', hasSnapshot: false }, null);
      this.counters.orphansClosed++;
      await this.deliver(alert);
      this.logger.info({ camera: cameraId, alertId: a.alertId }, 'closed an alert left open by an earlier owner of the camera');
    }
    return left.length;
  }

  private key(cam: TrackedCamera, trackId: number): string {
    return `${cam.options.pipelineId}/${trackId}`;
  }

  private async one(cam: TrackedCamera, e: TrackAlertEvent): Promise<void> {
    const key = this.key(cam, e.trackId);
    const state = this.states.get(key);
    const { width, height } = cam.options;
    if (e.kind === 'open') {
      if (e.score <= 0 || wholeFrame(e.box, width, height)) {
        this.states.set(key, 'suppressed');
        this.counters.suppressed++;
        return;
      }
      const snapshot = await this.snapshot(cam, e);
      const input = this.input(cam, e, 'open', { hasSnapshot: !!snapshot });
      const alert = await this.options.stream.add(input, snapshot);
      const s: AlertState = { alertId: alert.id, snapshotOf: snapshot ? alert.id : undefined, clip: Promise.resolve(), firstClip: new AbortController() };
      this.states.set(key, s);
      await this.options.openAlerts.mark(cam.cameraId, { ...input, alertId: alert.id, lastEventId: alert.id, snapshotOf: s.snapshotOf } satisfies OpenAlert);
      this.counters.opened++;
      this.logger.info({ camera: cam.cameraId, label: e.label, score: e.score, id: alert.id }, `alert: ${e.label} on ${cam.cameraId}`);
      // The open event does not wait for its clip: the next event of the alert points at it.
      s.clip = this.clip(cam, e, s, s.firstClip.signal);
      await this.deliver(alert);
      return;
    }
    if (!state || state === 'suppressed') {
      if (e.kind === 'closed') this.states.delete(key);
      return;
    }
    if (e.kind === 'update') {
      const snapshot = await this.snapshot(cam, e);
      const input = this.input(cam, e, 'update', { alertId: state.alertId, hasSnapshot: !!snapshot, snapshotOf: snapshot ? undefined : state.snapshotOf, clipOf: state.clipOf });
      const alert = await this.options.stream.add(input, snapshot);
      if (snapshot) state.snapshotOf = alert.id;
      await this.options.openAlerts.mark(cam.cameraId, { ...input, alertId: state.alertId, lastEventId: alert.id, hasSnapshot: false, snapshotOf: state.snapshotOf });
      this.counters.updated++;
      await this.deliver(alert);
      return;
    }
    // Closed: the final clip covers the whole track (as far as the ring still holds it), then the crops.
    this.states.delete(key);
    // Behind many cameras' clips, the first one may not have started: the closing clip replaces it.
    state.firstClip.abort();
    await state.clip;
    await this.clip(cam, e, state);
    const pngs = await Promise.all(cam.bestCrops(e.tracks).map((c) => encodePng(c.rgb, c.width, c.height)));
    const cropsKey = await this.options.stream.putCrops(state.alertId, pngs);
    const input = this.input(cam, e, 'closed', { alertId: state.alertId, hasSnapshot: false, snapshotOf: state.snapshotOf, clipOf: state.clipOf, cropsKey });
    const alert = await this.options.stream.add(input, null);
    await this.options.openAlerts.clear(cam.cameraId, state.alertId);
    this.counters.closed++;
    await this.deliver(alert);
  }

  private input(cam: TrackedCamera, e: TrackAlertEvent, status: AlertInput['status'], extra: Partial<AlertInput> & { hasSnapshot: boolean }): AlertInput {
    return {
      cameraId: cam.cameraId,
      label: e.label,
      score: e.score,
      scores: e.scores,
      // Tracks keep the stream's timeline; alerts report when things were seen (stream-clock.ts).
      firstAt: cam.wallTime(e.firstAt),
      lastAt: cam.wallTime(e.lastAt),
      frames: e.frames,
      box: e.box,
      path: e.path.map((p) => ({ x: Math.round(p.x), y: Math.round(p.y), at: cam.wallTime(p.at) })),
      trackId: `${cam.options.pipelineId}-${e.trackId}`,
      modelVersion: cam.modelVersion,
      status,
      cropsKey: null,
      ...extra,
    };
  }

  private async snapshot(cam: TrackedCamera, e: TrackAlertEvent): Promise<Buffer | null> {
    const frame = cam.ring.at(e.lastAt);
    if (!frame) return null;
    const release = cam.ring.hold([frame]);
    try {
      return await stageTimer.time('snapshot', () => snapshotJpeg(frame.rgb, cam.options.width, cam.options.height, e.box, e.path, `${e.label} ${Math.round(100 * e.score)}%`));
    } finally {
      release();
    }
  }

  private async clip(cam: TrackedCamera, e: TrackAlertEvent, state: AlertState, skip?: AbortSignal): Promise<void> {
    const seconds = this.options.clipSeconds;
    const encoder = this.options.clips;
    if (seconds <= 0 || !encoder) return;
    const frames = cam.ring.between(Math.max(e.firstAt - 1_000, e.lastAt - seconds * 1000), e.lastAt + 1_000);
    if (frames.length < 2) return;
    const release = cam.ring.hold(frames);
    try {
      // The ring's buffers go back to the camera once the encoder has copied them out, not after the clip.
      const mp4 = await encoder.encode(frames.map((f) => f.rgb), cam.options.width, cam.options.height, cam.options.fps, { signal: skip, framesRead: release, optional: !!skip }).finally(release);
      await this.options.stream.putClip(state.alertId, mp4);
      state.clipOf = state.alertId;
    } catch (err) {
      if ((skip?.aborted && err === skip.reason) || (err instanceof ClipRefused && err.optional)) {
        this.counters.clipsSkipped++;
        return;
      }
      if (err instanceof ClipRefused) this.counters.clipsDropped++;
      this.logger.warn({ err, camera: cam.cameraId, alertId: state.alertId }, 'evidence clip not made');
    }
  }

  private async deliver(alert: Alert): Promise<void> {
    try {
      await this.options.deliver?.(alert);
    } catch (err) {
      this.logger.warn({ err, alertId: alert.alertId }, 'an alert sink failed');
    }
  }
}
