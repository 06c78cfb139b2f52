/**
 * Batch input tensors reused between runs of one model. A batch's input is 600 KB of floats a crop at
 * 224 px, and V8 counts every new ArrayBuffer's bytes towards its next full collection: a fresh
 * tensor per batch made the cameras' crops a steady source of Mark-Compacts. Buffers are kept by
 * length (one per batch size seen, the usual few), up to `maxBytes` in all.
 */
export class InputBuffers {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly ours = new WeakSet<ArrayBufferLike>();
  private kept = 0;

  constructor(private readonly maxBytes = 16 * 1024 * 1024) {}

  /** A tensor of `floats` floats, its contents undefined (the caller fills every element). */
  take(floats: number): Float32Array {
    const list = this.free.get(floats);
    const reused = list?.pop();
    if (reused) {
      this.kept -= reused.byteLength;
      return reused;
    }
    const fresh = new Float32Array(floats);
    this.ours.add(fresh.buffer);
    return fresh;
  }

  /** Whether `take` handed out this tensor (a caller's own array is never taken over). */
  owns(tensor: Float32Array): boolean {
    return this.ours.has(tensor.buffer);
  }

  /**
   * Gives back a tensor that `take` handed out, once nothing reads it any more: the same array, or the
   * one a worker thread transferred back (a new object over the same memory).
   */
  give(tensor: Float32Array): void {
    this.ours.add(tensor.buffer);
    if (tensor.byteLength === 0 || this.kept + tensor.byteLength > this.maxBytes) return;
    const list = this.free.get(tensor.length) ?? [];
    if (list.includes(tensor)) return;
    list.push(tensor);
    this.free.set(tensor.length, list);
    this.kept += tensor.byteLength;
  }

  /** Bytes held for reuse. */
  get bytes(): number {
    return this.kept;
  }
}
