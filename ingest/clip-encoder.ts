import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
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
  logger?: Logger;
}

interface Waiting {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

interface Queued {
  frames: readonly Buffer[];
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
 * helper as a file written off the event loop; clips are encoded one at a time, in order, from a queue
 * kept here: a clip whose signal aborts while it waits is skipped (an alert's first clip, superseded by
 * its closing clip when the encoder is behind), and each clip's timeout starts with its encoding.
 * Sent to the helper all at once, 12 cameras' clips once queued for longer than the timeout, which
 * then failed every clip behind the first.
 */
export class ClipEncoder {
  private child: ChildProcess | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private closed = false;
  private readonly queue: Queued[] = [];
  private pumping = false;
  private readonly logger: Logger;

  constructor(private readonly options: ClipEncoderOptions = {}) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Clips waiting for the helper (the one being encoded is not among them). */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * The clip as MP4, once the clips before it are done. `signal` aborted before its turn: it is never
   * encoded, and the promise rejects with the signal's reason.
   */
  async encode(frames: readonly Buffer[], width: number, height: number, fps: number, signal?: AbortSignal): Promise<Buffer> {
    if (frames.length === 0) throw new Error('no frames for a clip');
    if (this.closed) throw new Error('the clip encoder is closed');
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ frames, width, height, fps, signal, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        if (job.signal?.aborted) {
          job.reject(job.signal.reason);
          continue;
        }
        try {
          job.resolve(await this.encodeNow(job));
        } catch (err) {
          job.reject(err);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async encodeNow({ frames, width, height, fps }: Queued): Promise<Buffer> {
    const dir = await mkdtemp(path.join(tmpdir(), 'sw-clip-'));
    try {
      const input = path.join(dir, 'frames.rgb');
      const output = path.join(dir, 'clip.mp4');
      const file = await open(input, 'w');
      try {
        await file.writev([...frames]);
      } finally {
        await file.close();
      }
      if (this.closed) throw new Error('the clip encoder is closed');
      await this.run({ input, output, width, height, fps });
      return await readFile(output);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Stops the helper process; clips still waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    this.child = null;
    for (const job of this.queue.splice(0)) job.reject(new Error('the clip encoder is closed'));
    this.failAll(new Error('the clip encoder is closed'));
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }

  private run(job: { input: string; output: string; width: number; height: number; fps: number }): Promise<void> {
    const child = this.process();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the evidence clip was not encoded within ${this.timeoutMs} ms`));
        // A hung ffmpeg would hold up every clip after it.
        this.restart('an evidence clip timed out');
      }, this.timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      child.send({ id, ...job, nice: this.options.nice ?? 10 });
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
