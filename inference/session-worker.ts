import { Worker } from 'node:worker_threads';

export interface WorkerOutput {
  type: string;
  size: number;
  data: Float32Array | Uint16Array;
  /** The run's input, transferred back once the thread is done with it. */
  input: Float32Array;
}

type Reply =
  | { kind: 'ready'; inputNames: string[]; outputNames: string[] }
  | { kind: 'failed'; message: string }
  | { kind: 'result'; id: number; type: string; size: number; data: Float32Array | Uint16Array; input: Float32Array }
  | { kind: 'error'; id: number; message: string };

const SCRIPT = new URL('./onnx-worker.mjs', import.meta.url);

/**
 * An ONNX Runtime session living in a worker thread (see onnx-worker.mjs for why). Runs are sent as
 * messages with their input buffer transferred, answers come back the same way.
 */
export class SessionWorker {
  private readonly pending = new Map<number, { resolve: (o: WorkerOutput) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private dead: Error | null = null;

  private constructor(private readonly worker: Worker, readonly inputNames: string[], readonly outputNames: string[]) {
    worker.on('message', (reply: Reply) => {
      if (reply.kind !== 'result' && reply.kind !== 'error') return;
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.kind === 'result') p?.resolve({ type: reply.type, size: reply.size, data: reply.data, input: reply.input });
      else p?.reject(new Error(reply.message));
    });
    const fail = (err: Error) => {
      this.dead = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('the inference thread has stopped')));
  }

  static create(model: string | Uint8Array, options: object): Promise<SessionWorker> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(SCRIPT, { workerData: { model, options } });
      const onError = (err: Error) => reject(err);
      worker.once('error', onError);
      worker.once('message', (reply: Reply) => {
        worker.off('error', onError);
        if (reply.kind === 'ready') resolve(new SessionWorker(worker, reply.inputNames, reply.outputNames));
        else {
          void worker.terminate();
          reject(new Error(reply.kind === 'failed' ? reply.message : 'unexpected first message from the inference thread'));
        }
      });
    });
  }

  /** `input` is transferred to the worker (the caller must not use it afterwards) and comes back as `WorkerOutput.input`. */
  run(inputName: string, outputName: string, input: Float32Array, dims: number[]): Promise<WorkerOutput> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ kind: 'run', id, inputName, outputName, input, dims }, [input.buffer as ArrayBuffer]);
    });
  }

  /** False once the thread has stopped (crashed or released): the model must be loaded again. */
  get alive(): boolean {
    return this.dead === null;
  }

  async release(): Promise<void> {
    if (this.dead) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ kind: 'release' });
    await exited;
  }
}
