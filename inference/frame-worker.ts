import { Worker, type Job } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisClient } from '../core/redis-client.js';
import type { Logger } from '../core/logger.js';
import { unscored, type CropResult, type CropResults } from '../queue/crop-results.js';
import { unpackPixels, type DecodedFrameJob, type FrameJobData } from '../queue/frame-job.js';
import { names } from '../queue/redis-connection.js';
import type { DriftMonitor } from '../drift/drift-monitor.js';
import type { Predictor } from './predictor.js';

export interface FrameWorkerOptions {
  redis: RedisClient;
  prefix: string;
  predictor: Predictor;
  /** Where scores go back to the camera's owner. */
  results: CropResults;
  logger: Logger;
  concurrency?: number;
  /**
   * A frame that waited in the queue longer than this (from its hand-over by ingest to a worker taking
   * it) is dropped, so a backlog never grows past it. Measured from the hand-over, not the capture:
   * a frame that reached ingest late (its decoder starved on a loaded machine) is still worth a late
   * score, where dropping it left every track of such a camera without one.
   */
  deadlineMs: number;
  /** BullMQ stalled-job check: a worker that died mid-job has its jobs handed on after this. */
  stalledIntervalMs?: number;
  now?: () => number;
  /** Drift monitor fed with every scored crop (drift/drift-monitor.ts). */
  drift?: DriftMonitor;
  /** The worker's BullMQ name (its Redis connection is named after it); unique per process by default. */
  name?: string;
}

export interface WorkerCounters {
  /** Frames scored, from the queue and in process together. */
  inferred: number;
  /** Of those, frames of this process's own cameras scored without the queue (`skywatch start`). */
  inProcess: number;
  crops: number;
  dropped: Record<string, number>;
  /** Alerts are opened by the camera's owner (ingest); kept for the metrics' shape. */
  alerts: number;
}

/**
 * The inference worker, a stateless crop scorer: takes frame jobs, resizes each native-resolution crop
 * to the model input and scores it through the process's shared micro-batcher (so crops of many
 * cameras, and REST images, share batches), and sends the probabilities back to the ingestor that owns
 * the camera. It keeps no per-camera state: tracks, verdicts and alerts live with the owner, so one
 * worker or ten give the same alerts. A frame dropped for its deadline still answers (with nulls), so
 * the owner's tracks never wait for it.
 */
export class FrameWorker {
  readonly worker: Worker<FrameJobData>;
  readonly counters: WorkerCounters = { inferred: 0, inProcess: 0, crops: 0, dropped: {}, alerts: 0 };
  /** A model is loaded and the worker not closed: frames may be scored. */
  private scoring = false;
  /** The key names, made once (a `names` object is some twenty closures: not one per job). */
  private readonly n: ReturnType<typeof names>;
  /** Tells this worker's connection from other processes' in the queue's worker list (QueuePeers). */
  readonly name: string;

  constructor(private readonly options: FrameWorkerOptions) {
    const n = names(options.prefix);
    this.n = n;
    this.name = options.name ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.worker = new Worker<FrameJobData>(n.frames, (job) => this.process(job), {
      name: this.name,
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
  }

  /** Starts taking jobs. Call once the model holder has a model. */
  start(): void {
    this.scoring = true;
    if (!this.worker.isRunning()) void this.worker.run().catch((err: unknown) => this.options.logger.error({ err }, 'frame worker stopped'));
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** A frame handed over (queued) at `queuedAt` waited too long: the worker is behind, the frame goes unscored. */
  private pastDeadline(queuedAt: number): boolean {
    return this.now() - queuedAt > this.options.deadlineMs;
  }

  private drop(reason: string): void {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
  }

  private async dropJob(data: FrameJobData, reason: string): Promise<{ outcome: string }> {
    this.drop(reason);
    await this.options.results.send(data.owner, unscored(data));
    return { outcome: reason };
  }

  private async process(job: Job<FrameJobData>): Promise<{ outcome: string }> {
    const { redis } = this.options;
    const key = this.n.pixels(job.id!);
    if (!job.data.recording && this.pastDeadline(job.timestamp)) {
      await redis.del(key);
      return this.dropJob(job.data, 'deadline');
    }
    // Read without deleting: if this worker dies now, the job is retried and still finds its pixels.
    const blob = await redis.getBuffer(key);
    if (!blob) return this.dropJob(job.data, 'pixels_expired');
    await this.options.results.send(job.data.owner, await this.score(unpackPixels(job.data, blob)));
    await redis.del(key);
    return { outcome: 'inferred' };
  }

  /**
   * Scores a frame of a camera this very process ingests (`skywatch start`), without the queue: no
   * pixels written to Redis and read back, no job bookkeeping, the answer handed straight to the
   * caller, which routes it as the results stream would. Null when this worker cannot score now (no
   * model loaded yet, or closing): the caller sends the frame through the queue instead.
   */
  scoreInProcess(frame: DecodedFrameJob): Promise<CropResult> | null {
    if (!this.scoring) return null;
    // Handed over now and scored at once (the caller bounds how many are in flight): no queue wait,
    // so nothing to drop for the deadline.
    this.counters.inProcess++;
    return this.score(frame);
  }

  /** The same scoring for queue jobs and in-process frames, so the path a frame took never changes its scores. */
  private async score(frame: DecodedFrameJob): Promise<CropResult> {
    const { predictor } = this.options;
    // Every crop of the frame is in the batcher at once: they share a batch with each other and with
    // the crops of other frames in flight.
    const predictions = await Promise.all(frame.crops.map((c) => predictor.predictRgb(c.rgb, c.width, c.height)));
    this.counters.crops += predictions.length;
    frame.crops.forEach((c, i) => this.options.drift?.observeCrop(frame.cameraId, c, Object.values(predictions[i].scores), Object.keys(predictions[i].scores), { objectSize: Math.max(c.box.width, c.box.height) }));
    this.counters.inferred++;
    const labels = predictions[0] ? Object.keys(predictions[0].scores) : [];
    return {
      cameraId: frame.cameraId,
      pipeline: frame.pipeline,
      seq: frame.seq,
      labels,
      modelVersion: predictions[0]?.modelVersion ?? '',
      crops: frame.crops.map((c, i) => ({ trackId: c.trackId, probabilities: labels.map((l) => predictions[i].scores[l]) })),
    };
  }

  async close(): Promise<void> {
    this.scoring = false;
    await this.worker.close();
  }
}
