import { readFileSync } from 'node:fs';

/** Compiled modules by URL: each is compiled once per process, and instantiated as often as needed. */
const compiled = new Map<string, WebAssembly.Module>();

/**
 * A committed WebAssembly kernel (built from its WAT text by `npm run build:wasm`), compiled
 * synchronously: the kernels are a few kilobytes and their users are synchronous constructors.
 */
export function wasmModule(url: URL): WebAssembly.Module {
  let module = compiled.get(url.href);
  if (!module) {
    module = new WebAssembly.Module(readFileSync(url));
    compiled.set(url.href, module);
  }
  return module;
}

const PAGE = 65536;

/**
 * Places a kernel's arrays one after another in its linear memory, each on a 16-byte boundary (the
 * SIMD loads and stores of whole groups expect it), and grows the memory to hold them all.
 */
export class WasmLayout {
  private end = 0;

  /** The address of the next `bytes` bytes. */
  place(bytes: number): number {
    const start = this.end;
    this.end = (this.end + bytes + 15) & ~15;
    return start;
  }

  /**
   * `memory` grown to hold everything placed, and its buffer. Growing detaches views made before it:
   * make them from the buffer returned here.
   */
  fit(memory: WebAssembly.Memory): ArrayBuffer {
    const missing = Math.ceil(this.end / PAGE) - memory.buffer.byteLength / PAGE;
    if (missing > 0) memory.grow(missing);
    return memory.buffer;
  }
}
