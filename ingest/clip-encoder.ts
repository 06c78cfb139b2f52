import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger, type Logger } from '../core/logger.js';

const SCRIPT = new URL('./clip-encoder-process.mjs', import.meta.url);

export interface ClipEncoderOptions {
  /**
   * A clip not encoded this long after its encoding started fails (ffmpeg hung); the encoder process is
   * restarted. Time waiting behind other clips does not count.
   */
  timeoutMs?: number;
  /** CPU priority of the ffmpeg runs (nice, 0-19): evidence yields to live detection. */
  nice?: number;
  /**
   * Clips waiting for their turn beyond which a new one is refused (ClipRefused): when alerts open
   * faster than the spare CPU encodes their clips, the queue (and its spool files) would grow for as
   * long as that lasts. Default 32.
   */
  maxQueued?: number;
  /** Clips waiting beyond which an optional clip (ClipRequest.optional) is refused at once. Default 2. */
  maxQueuedOptional?: number;
  logger?: Logger;
}

interface Waiting {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** What a caller may say about one clip besides its frames. */
export interface ClipRequest {
  /** Aborted before the clip's turn: it is never encoded, and its promise rejects with the reason. */
  signal?: AbortSignal;
  /**
   * Called once the frames have been copied out (or the clip failed before that): from then on the
   * caller may reuse their buffers, however long the clip then waits for its turn.
   */
  framesRead?: () => void;
  /**
   * Another clip will cover this one (an alert's first clip, covered by its closing clip): when the
   * encoder is already behind it is refused at once rather than written out to wait and be skipped.
   */
  optional?: boolean;
}

/** A clip not taken because the encoder is too far behind (see ClipEncoderOptions.maxQueued). */
export class ClipRefused extends Error {
  constructor(readonly optional: boolean, queued: number) {
    super(`evidence clip not queued: ${queued} clips already wait for the encoder`);
    this.name = 'ClipRefused';
  }
}

interface Spooled {
  job: Queued;
  dir: string;
}

interface Queued {
  /** The folder with the clip's frames (`frames.rgb`), written when the clip was asked for. */
  spool: Promise<string>;
  width: number;
  height: number;
  fps: number;
  signal?: AbortSignal;
  resolve: (mp4: Buffer) => void;
  reject: (err: unknown) => void;
}

/**
 * Encodes alerts' evidence clips (raw RGB frames -> MP4) in a small helper process of its own, started
 * once and reused: running ffmpeg straight from the ingest process would fork that large process for
 * every clip and block its event loop (and every camera's frames) while it does. The frames reach the
 * helper as a file written off the event loop; clips are encoded in order from a queue kept here, one
 * ffmpeg run at a time, the clip whose turn it is together with up to 3 waiting behind it (MAX_BATCH): a
 * clip whose signal aborts while it waits is skipped (an alert's first clip, superseded by its closing
 * clip when the encoder is behind), and each run's timeout (the clip timeout times its clips) starts
 * with its encoding.
 * Sent to the helper all at once, 12 cameras' clips once queued for longer than the timeout, which
 * then failed every clip behind the first.
 *
 * The file is written when the clip is asked for, not when its turn comes: a queued clip that held
 * its frames (20 to 50 of 1 MB, a camera's reusable frame buffers) kept them from going back to the
 * camera, which then allocated a new buffer for every frame while the encoder was behind (20 cameras
 * alerting on every track: RSS 2.1 GB against 1.6 GB with the frames written out at once).
 */
export class ClipEncoder {
  private child: ChildProcess | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;
  private readonly queue: Queued[] = [];
  private pumping = false;
  /** ffmpeg runs so far: clips that wait for their turn are encoded several to a run. */
  ffmpegRuns = 0;
  /** This process's spool folder in the temp directory, made with the first clip. */
  private spoolRoot: Promise<string> | null = null;
  private readonly logger: Logger;

  constructor(private readonly options: ClipEncoderOptions = {}) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Clips waiting for the helper (the one being encoded is not among them). */
  get queued(): number {
    return this.queue.length;
  }

  /** The clip as MP4, once the clips before it are done (see ClipRequest for the frames' buffers and skipping). */
  async encode(frames: readonly Buffer[], width: number, height: number, fps: number, request: ClipRequest = {}): Promise<Buffer> {
    if (frames.length === 0) throw new Error('no frames for a clip');
    if (this.closed) throw new Error('the clip encoder is closed');
    const limit = request.optional ? (this.options.maxQueuedOptional ?? 2) : (this.options.maxQueued ?? 32);
    if (this.queue.length >= limit) throw new ClipRefused(!!request.optional, this.queue.length);
    const spool = this.spool(frames).finally(() => request.framesRead?.());
    // Awaited only when the clip's turn comes: a failed write must not count as unhandled meanwhile.
    spool.catch(() => {});
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ spool, width, height, fps, signal: request.signal, resolve, reject });
      void this.pump();
    });
  }

  /** Writes the frames into this process's spool folder; a folder that could not be made, or is gone (a temp cleaner), is made again for the next clip. */
  private async spool(frames: readonly Buffer[]): Promise<string> {
    let root: string;
    try {
      root = await (this.spoolRoot ??= makeSpoolRoot());
    } catch (err) {
      this.spoolRoot = null;
      throw err;
    }
    try {
      return await writeSpool(root, frames);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.spoolRoot = null;
      throw err;
    }
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let head = this.queue.shift(); head; head = this.queue.shift()) {
        // The clip whose turn it is, and those waiting behind it (up to MAX_BATCH): one ffmpeg start for them all.
        const batch: Spooled[] = [];
        for (let job: Queued | undefined = head; job; job = batch.length < MAX_BATCH ? this.queue.shift() : undefined) {
          const { reject } = job;
          const dir = await job.spool.catch((err: unknown) => {
            reject(err);
            return null;
          });
          if (dir === null) continue;
          if (job.signal?.aborted) {
            job.reject(job.signal.reason);
            await rm(dir, { recursive: true, force: true });
            continue;
          }
          batch.push({ job, dir });
        }
        try {
          await this.encodeBatch(batch);
        } finally {
          for (const { dir } of batch) await rm(dir, { recursive: true, force: true });
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Encodes the clips in one ffmpeg run; should that fail with several, each alone, so one bad clip fails only itself. */
  private async encodeBatch(batch: readonly Spooled[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      if (this.closed) throw new Error('the clip encoder is closed');
      await this.run(batch.map(({ job, dir }) => ({ input: path.join(dir, SPOOL_FILE), output: path.join(dir, CLIP_FILE), width: job.width, height: job.height, fps: job.fps })));
    } catch (err) {
      if (batch.length > 1 && !this.closed) {
        for (const one of batch) await this.encodeBatch([one]);
        return;
      }
      for (const { job } of batch) job.reject(err);
      return;
    }
    for (const { job, dir } of batch) await readFile(path.join(dir, CLIP_FILE)).then(job.resolve, job.reject);
  }

  /** Stops the helper process; clips still waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    this.child = null;
    // Their spool files go with the spool folder, below.
    for (const job of this.queue.splice(0)) job.reject(new Error('the clip encoder is closed'));
    this.failAll(new Error('the clip encoder is closed'));
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    const root = await this.spoolRoot?.catch(() => null);
    if (root) await rm(root, { recursive: true, force: true });
  }

  /** One ffmpeg run of the helper for these clips; each clip has the whole timeout. */
  private run(clips: Array<{ input: string; output: string; width: number; height: number; fps: number }>): Promise<void> {
    const child = this.process();
    const id = this.nextId++;
    this.ffmpegRuns++;
    const timeoutMs = this.timeoutMs * clips.length;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the evidence clip was not encoded within ${timeoutMs} ms`));
        // A hung ffmpeg would hold up every clip after it.
        this.restart('an evidence clip timed out');
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      child.send({ id, clips, nice: this.options.nice ?? 10 });
    });
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 60_000;
  }

  private process(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.connected) return this.child;
    // Plain node: the helper is JavaScript and needs none of the parent's loaders or flags.
    const child = fork(SCRIPT, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.on('message', (msg: { id: number; error?: string }) => {
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      clearTimeout(w.timer);
      if (msg.error) w.reject(new Error(msg.error));
      else w.resolve();
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = null;
      if (!this.closed) this.logger.warn({ code, signal }, 'the evidence clip encoder stopped; it restarts with the next clip');
      this.failAll(new Error('the evidence clip encoder stopped'));
    });
    child.on('error', (err) => this.logger.warn({ err }, 'evidence clip encoder error'));
    this.child = child;
    return child;
  }

  private restart(why: string): void {
    const child = this.child;
    this.child = null;
    this.logger.warn({ why }, 'restarting the evidence clip encoder');
    this.failAll(new Error(why));
    child?.kill('SIGKILL');
  }

  private failAll(err: Error): void {
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(err);
      this.waiting.delete(id);
    }
  }
}

const SPOOL_FILE = 'frames.rgb';
const CLIP_FILE = 'clip.mp4';
/**
 * Clips encoded by one ffmpeg run at most. Starting ffmpeg costs about 60 ms of CPU (loading its
 * libraries) against 3-4 ms a frame: four 20-frame clips in one run took 0.33 s of CPU here, one
 * alone 0.12 s.
 */
const MAX_BATCH = 4;
const SPOOL_ROOT = /^sw-clips-(\d+)-/;

/**
 * A spool folder of this process's own (`sw-clips-<pid>-...` in the temp directory), after removing
 * those of processes that no longer run: an ingest process killed with clips waiting left up to 32 of
 * them (about 25 MB each) that nothing else would ever remove. Folders of running processes (another
 * ingestor on the same host) are left alone.
 */
async function makeSpoolRoot(): Promise<string> {
  const tmp = tmpdir();
  for (const name of await readdir(tmp).catch(() => [] as string[])) {
    const pid = Number(SPOOL_ROOT.exec(name)?.[1] ?? NaN);
    if (Number.isInteger(pid) && pid !== process.pid && !running(pid)) await rm(path.join(tmp, name), { recursive: true, force: true }).catch(() => {});
  }
  return mkdtemp(path.join(tmp, `sw-clips-${process.pid}-`));
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The frames, one after another, in a new folder of their own (removed by whoever encodes them). */
async function writeSpool(root: string, frames: readonly Buffer[]): Promise<string> {
  const dir = await mkdtemp(path.join(root, 'clip-'));
  try {
    const file = await open(path.join(dir, SPOOL_FILE), 'w');
    try {
      await file.writev([...frames]);
    } finally {
      await file.close();
    }
    return dir;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
