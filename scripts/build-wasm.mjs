// Assembles the project's WebAssembly kernels from their WAT text (npm run build:wasm). The binaries
// are committed so that running Skywatch needs no assembler; tests/core/wasm-kernels.test.ts fails
// when one is not what this script makes of its text.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import initWabt from 'wabt';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every kernel, as its path without the extension: `<path>.wat` is built into `<path>.wasm`. */
export const KERNELS = ['ingest/motion-kernel', 'core/image/cubic-enlarge', 'inference/tensor-planes'];

/** The WebAssembly binary of a WAT text, with SIMD on and no names section (so the bytes are stable). */
export async function assembleWat(text, name) {
  const wabt = await initWabt();
  const module = wabt.parseWat(name, text, { simd: true });
  try {
    module.validate();
    return Buffer.from(module.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const kernel of KERNELS) {
    const bytes = await assembleWat(readFileSync(path.join(root, `${kernel}.wat`), 'utf8'), `${kernel}.wat`);
    writeFileSync(path.join(root, `${kernel}.wasm`), bytes);
    console.log(`${kernel}.wasm: ${bytes.length} bytes`);
  }
}
