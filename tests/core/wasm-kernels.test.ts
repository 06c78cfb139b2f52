import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types (the build step for the binaries)
import { assembleWat, KERNELS } from '../../scripts/build-wasm.mjs';

describe('WebAssembly kernels', () => {
  it('are what `npm run build:wasm` makes of their WAT text (no committed binary is stale)', async () => {
    const kernels = KERNELS as string[];
    expect(kernels.length).toBeGreaterThanOrEqual(2);
    for (const kernel of kernels) {
      const text = readFileSync(new URL(`../../${kernel}.wat`, import.meta.url), 'utf8');
      const built: Buffer = await assembleWat(text, `${kernel}.wat`);
      expect(built.equals(readFileSync(new URL(`../../${kernel}.wasm`, import.meta.url))), kernel).toBe(true);
    }
  });
});
