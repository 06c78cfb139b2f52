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
