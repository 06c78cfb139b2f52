import * as ort from 'onnxruntime-node';
import { SkywatchError } from '../core/errors.js';
import { InputBuffers } from './input-buffers.js';
import { SessionWorker } from './session-worker.js';
import type { ModelManifest } from '../core/model/manifest.js';

export interface SessionThreads {
  intraOpThreads?: number;
  interOpThreads?: number;
  /**
   * Whether idle intra-op threads spin-wait for the next run (ONNX Runtime's default) instead of
   * sleeping. Spinning shaves wake-up time on an idle machine but burned a third of the inference
   * process's CPU with 8 cameras on 2 cores, where ingest and ffmpeg need those cores. Off by default.
   */
  spin?: boolean;
  /**
   * Run the session in a worker thread, so inference does not block this thread's event loop (a
   * server keeps reading and decoding requests during a batch). Off by default: tools that only
   * infer gain nothing from it.
   */
  offThread?: boolean;
}

/**
 * One onnxruntime-node session for one model version. `run` takes a batch already laid out as the
 * manifest's input (NCHW float32) and returns probabilities, `labels.length` per image.
 */
export class OnnxModel {
  readonly manifest: ModelManifest;
  readonly inputName: string;
  readonly outputName: string;
  private session: ort.InferenceSession | SessionWorker | null;
  /** Batch inputs reused between runs (inputTensor hands them out, run takes them back). */
  private readonly inputs = new InputBuffers();

  private constructor(session: ort.InferenceSession | SessionWorker, manifest: ModelManifest) {
    this.session = session;
    this.manifest = manifest;
    this.inputName = session.inputNames.includes(manifest.input.name) ? manifest.input.name : session.inputNames[0];
    this.outputName = session.outputNames.includes(manifest.output.name) ? manifest.output.name : session.outputNames[0];
  }

  static async load(model: string | Uint8Array, manifest: ModelManifest, threads: SessionThreads = {}): Promise<OnnxModel> {
    let session: ort.InferenceSession | SessionWorker;
    try {
      const options: ort.InferenceSession.SessionOptions = {
        intraOpNumThreads: threads.intraOpThreads ?? 2,
        interOpNumThreads: threads.interOpThreads ?? 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        extra: { session: { intra_op: { allow_spinning: threads.spin ? '1' : '0' } } },
      };
      if (threads.offThread) session = await SessionWorker.create(model, options);
      else session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
    } catch (err) {
      throw new SkywatchError('MODEL_INVALID', `ONNX Runtime could not load the model: ${(err as Error).message}`, undefined, { cause: err });
    }
    return new OnnxModel(session, manifest);
  }

  get loaded(): boolean {
    return this.session !== null;
  }

  /** Loaded and, when it runs on a worker thread, that thread still alive. */
  get healthy(): boolean {
    return this.session !== null && !(this.session instanceof SessionWorker && !this.session.alive);
  }

  /**
   * An input tensor for `batch` images, to fill completely and pass to `run`, which takes it back for
   * a later batch (a caller's own arrays are never kept).
   */
  inputTensor(batch: number): Float32Array {
    const { height, width } = this.manifest.input;
    return this.inputs.take(batch * 3 * height * width);
  }

  /** Probabilities for `batch` images, row-major [batch][labels]. */
  async run(input: Float32Array, batch: number): Promise<Float32Array> {
    const session = this.session;
    if (!session) throw new SkywatchError('NO_MODEL', 'model was released');
    const { height, width } = this.manifest.input;
    if (input.length !== batch * 3 * height * width) {
      throw new SkywatchError('BAD_REQUEST', `input holds ${input.length} floats, expected ${batch * 3 * height * width}`);
    }
    const dims = [batch, 3, height, width];
    const labels = this.manifest.labels.length;
    const reuse = this.inputs.owns(input);
    if (session instanceof SessionWorker) {
      const out = await session.run(this.inputName, this.outputName, input, dims);
      if (reuse) this.inputs.give(out.input);
      checkSize(out.size, batch, labels);
      return toFloat32(out.type, out.data);
    }
    const out = await session.run({ [this.inputName]: new ort.Tensor('float32', input, dims) });
    if (reuse) this.inputs.give(input);
    const result = out[this.outputName];
    try {
      checkSize(result.size, batch, labels);
      return Float32Array.from(toFloat32(result.type, result.data as Float32Array | Uint16Array));
    } finally {
      for (const t of Object.values(out)) t.dispose();
    }
  }

  /** Runs a zero batch so the first real request does not pay for lazy initialisation; checks shapes. */
  async warmup(batch = 1): Promise<void> {
    const { height, width } = this.manifest.input;
    const probs = await this.run(new Float32Array(batch * 3 * height * width), batch);
    const columns = this.manifest.labels.length;
    // A gate column (the photo model's) is not a probability of a label: it is checked on its own.
    const gated = this.manifest.output.kind === 'probabilities-and-gate';
    for (let i = 0; i < batch; i++) {
      let sum = 0;
      for (let j = 0; j < columns - (gated ? 1 : 0); j++) sum += probs[i * columns + j];
      if (!Number.isFinite(sum) || Math.abs(sum - 1) > 1e-2) {
        throw new SkywatchError('MODEL_OUTPUT_MISMATCH', `model outputs do not sum to 1 (sum ${sum}): expected probabilities`);
      }
      const gate = probs[i * columns + columns - 1];
      if (gated && !(gate >= 0 && gate <= 1)) throw new SkywatchError('MODEL_OUTPUT_MISMATCH', `the gate column is ${gate}, not in [0, 1]`);
    }
  }

  async release(): Promise<void> {
    const session = this.session;
    this.session = null;
    await session?.release();
  }
}

function checkSize(size: number, batch: number, labels: number): void {
  if (size !== batch * labels) throw new SkywatchError('MODEL_OUTPUT_MISMATCH', `model returned ${size} values for ${batch} images of ${labels} labels`);
}

/** The output as float32; a float32 output from the main-thread session is copied by the caller. */
function toFloat32(type: string, data: Float32Array | Uint16Array): Float32Array {
  if (type === 'float32') return data as Float32Array;
  if (type === 'float16') return Float32Array.from(data as Uint16Array, halfToFloat);
  throw new SkywatchError('MODEL_OUTPUT_MISMATCH', `model output type ${type} is not a float tensor`);
}

/** IEEE 754 half to single; Node 20 has no Float16Array. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
