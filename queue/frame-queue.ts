import { Queue, QueueEvents } from 'bullmq';
import type { RedisClient } from '../core/redis-client.js';
import { RECORDING_PATIENCE_MS, type FrameJobInput, type FrameSink } from '../ingest/frame-sink.js';
import type { FrameJobData } from './frame-job.js';
import { duplicateRedis, names } from './redis-connection.js';

const SUBMIT_TIMEOUT_MS = 2_000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`queue did not answer in ${ms} ms`)), ms);
    p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    }, (err: unknown) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export interface FrameQueueOptions {
  redis: RedisClient;
  prefix: string;
  /** Pixels older than this are useless (and their key expires): the deadline with room to spare. */
  pixelTtlMs: number;
}

/**
 * The ingest side of the queue: frame jobs on BullMQ with their pixels in a key of their own (SET PX,
 * read and deleted by the worker; measured on the 2-core machine 1.4x faster than base64 in the job).
 * Counts what each camera has in flight, so ingest can drop instead of queueing without bound.
 */
export class FrameQueue implements FrameSink {
  readonly queue: Queue<FrameJobData>;
  private readonly events: QueueEvents;
  /** QueueEvents blocks on a connection of its own; one it is handed, it does not close. */
  private readonly eventsConnection: RedisClient;
  private readonly inflight = new Map<string, number>();
  /** Jobs in flight: their camera, and when their pixels expire. */
  private readonly owner = new Map<string, { camera: string; expires: number }>();
  private seq = 0;
  /** The key names, made once (a `names` object is some twenty closures: not one per frame). */
  private readonly n: ReturnType<typeof names>;

  constructor(private readonly options: FrameQueueOptions) {
    const n = names(options.prefix);
    this.n = n;
    this.queue = new Queue<FrameJobData>(n.frames, { connection: options.redis, prefix: n.queuePrefix, defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 }, attempts: 2 } });
    this.eventsConnection = duplicateRedis(options.redis);
    this.events = new QueueEvents(n.frames, { connection: this.eventsConnection, prefix: n.queuePrefix });
    // Redis outages are expected (restarts): ioredis reconnects by itself, and these listeners keep the
    // connection errors from surfacing as unhandled.
    this.queue.on('error', () => {});
    this.events.on('error', () => {});
    const done = ({ jobId }: { jobId: string }) => this.finish(jobId);
    this.events.on('completed', done);
    this.events.on('failed', done);
  }

  inFlight(cameraId: string): number {
    // A job whose completion event was lost (Redis restarted) stops counting once its pixels expired.
    const now = Date.now();
    for (const [id, o] of this.owner) if (o.expires < now) this.finish(id);
    return this.inflight.get(cameraId) ?? 0;
  }

  async submit(job: FrameJobInput): Promise<'queued' | 'dropped'> {
    // With Redis away, commands would wait in ioredis's offline queue: live video is not worth
    // buffering, so the frame is dropped at once (and counted by ingest).
    if (this.options.redis.status !== 'ready') return 'dropped';
    // BullMQ refuses ":" in custom job ids.
    const id = `${job.cameraId}.${job.seq}.${process.pid}.${this.seq++}`;
    // One crop (the usual frame) is its own blob: Redis's client copies the value into the command anyway.
    const blob = job.crops.length === 1 ? job.crops[0].rgb : Buffer.concat(job.crops.map((c) => c.rgb));
    const data: FrameJobData = {
      cameraId: job.cameraId,
      pipeline: job.pipeline,
      owner: job.owner,
      seq: job.seq,
      capturedAt: job.capturedAt,
      width: job.width,
      height: job.height,
      crops: job.crops.map((c) => ({ trackId: c.trackId, box: c.box, width: c.width, height: c.height })),
      ...(job.recording ? { recording: true } : {}),
    };
    try {
      // Redis may vanish between the status check and the write (ioredis then holds the command until
      // it reconnects): the write gets the same deadline as the job, so a frame never waits for Redis.
      const ttl = this.pixelTtl(job);
      await withTimeout(this.options.redis.set(this.n.pixels(id), blob, 'PX', ttl), SUBMIT_TIMEOUT_MS);
      this.inflight.set(job.cameraId, (this.inflight.get(job.cameraId) ?? 0) + 1);
      this.owner.set(id, { camera: job.cameraId, expires: Date.now() + ttl });
      await withTimeout(this.queue.add('frame', data, { jobId: id }), SUBMIT_TIMEOUT_MS);
      return 'queued';
    } catch {
      // Redis is away (restarting): live video is not worth buffering; the frame is dropped and counted.
      this.finish(id);
      return 'dropped';
    }
  }

  /** A recording's frame waits in the queue as long as it must (no deadline): its pixels live longer. */
  private pixelTtl(job: FrameJobInput): number {
    return job.recording ? Math.max(RECORDING_PATIENCE_MS, this.options.pixelTtlMs) : this.options.pixelTtlMs;
  }

  private finish(jobId: string): void {
    const o = this.owner.get(jobId);
    if (!o) return;
    this.owner.delete(jobId);
    this.inflight.set(o.camera, Math.max(0, (this.inflight.get(o.camera) ?? 0) - 1));
  }

  /**
   * Redis client names of the workers connected to this queue (BullMQ's, from CLIENT LIST). Throws
   * where the server does not list its clients (BullMQ then answers with a placeholder entry).
   */
  async workerNames(): Promise<string[]> {
    const workers = (await this.queue.getWorkers()) as Array<{ rawname?: string; name?: string }>;
    return workers.map((w) => {
      if (w.rawname === undefined) throw new Error(`the queue's workers cannot be listed: ${w.name ?? 'no client name'}`);
      return w.rawname;
    });
  }

  async depth(): Promise<number> {
    return this.queue.getWaitingCount();
  }

  async close(): Promise<void> {
    try {
      await this.events.close();
      await this.queue.close();
    } finally {
      this.eventsConnection.disconnect();
    }
  }
}
