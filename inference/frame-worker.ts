import { Worker, type Job } from 'bullmq';
import type { RedisClient } from '../core/redis-client.js';
import type { Logger } from '../core/logger.js';
import { unpackPixels, type FrameJobData } from '../queue/frame-job.js';
import { names } from '../queue/redis-connection.js';
import type { AlertStream } from '../queue/alert-stream.js';
import type { AlertSink } from '../sinks/alert-sink.js';
import type { AlertEvent, AlertRules } from './alert-rules.js';
import type { CameraAlertPolicies } from './camera-alert-policy.js';
import type { Predictor } from './predictor.js';
import { boxedSnapshot } from './snapshot.js';
import { stageTimer } from './stage-timer.js';
import type { DriftMonitor } from '../drift/drift-monitor.js';

export interface FrameWorkerOptions {
  redis: RedisClient;
  prefix: string;
  predictor: Predictor;
  rules: AlertRules;
  alerts: AlertStream;
  logger: Logger;
  concurrency?: number;
  /** A frame older than this when a worker picks it up is dropped: live video never waits. */
  deadlineMs: number;
  /** BullMQ stalled-job check: a worker that died mid-job has its jobs handed on after this. */
  stalledIntervalMs?: number;
  now?: () => number;
  /** Where alert events go after the stream stored them (webhook, MQTT); the caller closes it. */
  sinks?: AlertSink;
  /** Per-camera alert zones, threshold and labels (absent: the rules' settings for every camera). */
  policies?: CameraAlertPolicies;
  /** Drift monitor fed with every scored crop (drift/drift-monitor.ts). */
  drift?: DriftMonitor;
}

export interface WorkerCounters {
  inferred: number;
  crops: number;
  dropped: Record<string, number>;
  alerts: number;
}

/**
 * The inference worker: takes frame jobs, classifies every crop through the shared micro-batcher (so
 * crops of many cameras share batches), feeds each frame's best score per label to the alert rules and
 * writes their events, with a boxed snapshot, to the alert stream.
 */
export class FrameWorker {
  readonly worker: Worker<FrameJobData>;
  readonly counters: WorkerCounters = { inferred: 0, crops: 0, dropped: {}, alerts: 0 };
  private readonly expiry: ReturnType<typeof setInterval>;
  private readonly modelVersions = new Map<string, string>();

  constructor(private readonly options: FrameWorkerOptions) {
    const n = names(options.prefix);
    this.worker = new Worker<FrameJobData>(n.frames, (job) => this.process(job), {
      connection: options.redis,
      prefix: n.queuePrefix,
      concurrency: options.concurrency ?? 8,
      stalledInterval: options.stalledIntervalMs ?? 5_000,
      maxStalledCount: 2,
      lockDuration: Math.max(5_000, (options.stalledIntervalMs ?? 5_000) * 2),
      // Jobs are taken only once a model is loaded (start()): without one they could only fail.
      autorun: false,
    });
    let warned = 0;
    this.worker.on('error', (err) => {
      // One line every 10 s while Redis is away, not one per retry.
      if (Date.now() - warned > 10_000) options.logger.warn({ err }, 'frame worker: Redis error (retrying)');
      warned = Date.now();
    });
    this.expiry = setInterval(() => void this.publish(options.rules.expire(this.now())), 1_000);
    this.expiry.unref();
  }

  /** Starts taking jobs. Call once the model holder has a model. */
  start(): void {
    if (!this.worker.isRunning()) void this.worker.run().catch((err: unknown) => this.options.logger.error({ err }, 'frame worker stopped'));
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private drop(reason: string): void {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
  }

  private async process(job: Job<FrameJobData>): Promise<{ outcome: string }> {
    const { redis, predictor, prefix } = this.options;
    const key = names(prefix).pixels(job.id!);
    if (this.now() - job.data.capturedAt > this.options.deadlineMs) {
      await redis.del(key);
      this.drop('deadline');
      return { outcome: 'deadline' };
    }
    // Read without deleting: if this worker dies now, the job is retried and still finds its pixels.
    const blob = await redis.getBuffer(key);
    if (!blob) {
      this.drop('pixels_expired');
      return { outcome: 'pixels_expired' };
    }
    const frame = unpackPixels(job.data, blob);
    const best = new Map<string, { score: number; box: (typeof frame.crops)[number]['box'] | null }>();
    let version = '';
    const policy = (await this.options.policies?.get(frame.cameraId)) ?? null;
    for (const crop of frame.crops) {
      // Objects outside the camera's alert zones are not classified: they could not alert.
      if (policy && !policy.admits(crop.box, frame.width, frame.height)) continue;
      const p = await predictor.predictRgb(crop.rgb, crop.width, crop.height);
      version = p.modelVersion;
      this.options.drift?.observeCrop(frame.cameraId, crop, Object.values(p.scores), Object.keys(p.scores), { objectSize: Math.max(crop.box.width, crop.box.height) });
      this.counters.crops++;
      for (const [label, score] of Object.entries(p.scores)) {
        if (score > (best.get(label)?.score ?? -1)) best.set(label, { score, box: crop.box });
      }
    }
    this.counters.inferred++;
    if (version) this.modelVersions.set(frame.cameraId, version);
    const events: AlertEvent[] = [];
    // The winning label of the frame is what it agrees with; other labels count as misses.
    const winner = [...best.entries()].sort((a, b) => b[1].score - a[1].score)[0];
    stageTimer.timeSync('alert_rules', () => {
      for (const [label, b] of best) {
        events.push(...this.options.rules.observe({ cameraId: frame.cameraId, label, score: label === winner[0] ? b.score : 0, box: b.box, at: frame.capturedAt, ...policy?.rule }));
      }
    });
    await this.publish(events, frame.frameJpeg, frame.width, frame.height);
    await redis.del(key);
    return { outcome: 'inferred' };
  }

  private async publish(events: AlertEvent[], frameJpeg: Buffer | null = null, width = 0, height = 0): Promise<void> {
    for (const e of events) {
      try {
        const snapshot = frameJpeg && e.kind !== 'closed' ? await stageTimer.time('snapshot', () => boxedSnapshot(frameJpeg, width, height, e.box, e.label)) : null;
        const alert = await this.options.alerts.add({
          alertId: e.alertId,
          cameraId: e.cameraId,
          label: e.label,
          score: e.score,
          firstAt: e.firstAt,
          lastAt: e.lastAt,
          frames: e.frames,
          box: e.box,
          modelVersion: this.modelVersions.get(e.cameraId) ?? '',
          status: e.kind === 'open' ? 'open' : e.kind === 'update' ? 'update' : 'closed',
          hasSnapshot: !!snapshot,
        }, snapshot);
        if (e.kind === 'open') {
          this.options.rules.setAlertId(e.cameraId, e.label, alert.id);
          this.counters.alerts++;
          this.options.logger.info({ camera: e.cameraId, label: e.label, score: e.score, id: alert.id }, `alert: ${e.label} on ${e.cameraId}`);
        }
        await this.options.sinks?.deliver({ type: 'alert', alert });
      } catch (err) {
        this.options.logger.error({ err }, 'could not write an alert');
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.expiry);
    await this.worker.close();
  }
}
