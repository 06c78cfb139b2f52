// Assembles ingest/motion-kernel.wat into ingest/motion-kernel.wasm (npm run build:wasm). The binary is
// committed so that running Skywatch needs no assembler; tests/ingest/motion-kernel.test.ts fails when
// it is not what this script makes of the text.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import initWabt from 'wabt';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

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
  const source = path.join(root, 'ingest/motion-kernel.wat');
  const bytes = await assembleWat(readFileSync(source, 'utf8'), 'motion-kernel.wat');
  writeFileSync(path.join(root, 'ingest/motion-kernel.wasm'), bytes);
  console.log(`ingest/motion-kernel.wasm: ${bytes.length} bytes`);
}
