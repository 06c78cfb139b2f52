import { SkywatchError } from '../core/errors.js';
import type { LoadedModel } from './model-holder.js';
import { rgbToTensor } from './preprocess.js';
import { stageTimer } from './stage-timer.js';

export interface BatchResult {
  probs: Float32Array;
  /** Time spent writing this image's floats into the batch (its normalisation, for an RGB image); set by the batcher. */
  fillMs?: number;
  labels: string[];
  modelVersion: string;
  queueMs: number;
  inferMs: number;
  batchSize: number;
}

export interface BatcherOptions {
  maxBatch: number;
  maxWaitMs: number;
  onBatch?: (size: number, inferMs: number) => void;
}

interface Pending {
  /** Writes the image's input floats into the batch at `offset`. */
  fill: (batch: Float32Array, offset: number) => void;
  enqueued: number;
  resolve: (r: BatchResult) => void;
  reject: (e: unknown) => void;
}

interface Lane {
  queue: Pending[];
  running: boolean;
  timer: ReturnType<typeof setTimeout> | null;
}

/**
 * Dynamic batching in the manner of Triton: requests for one model wait at most `maxWaitMs` (or until
 * `maxBatch` are queued) and run as one batch; while a batch runs the next one fills, so batches grow
 * with load and stay at one when idle. Each model has its own lane: requests prepared for a model
 * being swapped out finish on it.
 */
export class MicroBatcher {
  private readonly lanes = new Map<LoadedModel, Lane>();

  constructor(private readonly options: BatcherOptions) {}

  /** `tensor` must already be laid out for `model`'s input spec (one image). */
  infer(model: LoadedModel, tensor: Float32Array): Promise<BatchResult> {
    const { height, width } = model.manifest.input;
    if (tensor.length !== 3 * height * width) return Promise.reject(new SkywatchError('BAD_REQUEST', `tensor holds ${tensor.length} floats, the model takes ${3 * height * width}`));
    return this.enqueue(model, (batch, offset) => batch.set(tensor, offset));
  }

  /**
   * Packed RGB24 already at `model`'s input size, normalised (rgbToTensor) straight into the batch:
   * a camera crop needs no float tensor of its own (600 KB at 224x224, one per crop, which with the
   * batch's copy was most of the ArrayBuffer bytes the crops allocated, and so of their GC cost).
   */
  inferRgb(model: LoadedModel, rgb: Uint8Array): Promise<BatchResult> {
    const spec = model.manifest.input;
    if (rgb.length !== 3 * spec.height * spec.width) return Promise.reject(new SkywatchError('BAD_REQUEST', `image holds ${rgb.length} bytes, the model takes ${3 * spec.height * spec.width}`));
    return this.enqueue(model, (batch, offset) => rgbToTensor(rgb, spec, batch, offset));
  }

  /**
   * An image whose floats `fill` writes into the batch at `offset` (3 x the input's plane), when the
   * batch is assembled: a camera crop is stretched and normalised there, with no buffer of its own.
   */
  inferFill(model: LoadedModel, fill: (batch: Float32Array, offset: number) => void): Promise<BatchResult> {
    return this.enqueue(model, fill);
  }

  private enqueue(model: LoadedModel, fill: Pending['fill']): Promise<BatchResult> {
    let lane = this.lanes.get(model);
    if (!lane) {
      lane = { queue: [], running: false, timer: null };
      this.lanes.set(model, lane);
    }
    return new Promise<BatchResult>((resolve, reject) => {
      lane.queue.push({ fill, enqueued: performance.now(), resolve, reject });
      this.schedule(model, lane);
    });
  }

  get queued(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.queue.length;
    return n;
  }

  private schedule(model: LoadedModel, lane: Lane): void {
    if (lane.running) return;
    if (lane.queue.length >= this.options.maxBatch || this.options.maxWaitMs <= 0) return void this.run(model, lane);
    lane.timer ??= setTimeout(() => void this.run(model, lane), this.options.maxWaitMs);
  }

  private async run(model: LoadedModel, lane: Lane): Promise<void> {
    if (lane.timer) clearTimeout(lane.timer);
    lane.timer = null;
    if (lane.running || lane.queue.length === 0) return;
    lane.running = true;
    const batch = lane.queue.splice(0, this.options.maxBatch);
    const { height, width } = model.manifest.input;
    const per = 3 * height * width;
    // Every element is written by the fills below; the model takes the tensor back after its run.
    const input = model.model.inputTensor(batch.length);
    const fillMs: number[] = [];
    const started = performance.now();
    try {
      for (let i = 0, t = started; i < batch.length; i++) {
        batch[i].fill(input, i * per);
        const now = performance.now();
        fillMs.push(now - t);
        t = now;
      }
      const ran = performance.now();
      const probs = await model.model.run(input, batch.length);
      const inferMs = performance.now() - ran;
      const k = model.manifest.labels.length;
      this.options.onBatch?.(batch.length, inferMs);
      stageTimer.observe('inference', inferMs);
      for (const p of batch) stageTimer.observe('queue_wait', started - p.enqueued);
      batch.forEach((p, i) => p.resolve({ probs: probs.slice(i * k, (i + 1) * k), fillMs: fillMs[i], labels: model.manifest.labels, modelVersion: model.version, queueMs: started - p.enqueued, inferMs, batchSize: batch.length }));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      lane.running = false;
      if (lane.queue.length) this.schedule(model, lane);
      else this.lanes.delete(model);
    }
  }
}
