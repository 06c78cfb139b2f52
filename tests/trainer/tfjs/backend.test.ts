import { PassThrough } from 'node:stream';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logger.js';
import { initTfBackend } from '../../../trainer/tfjs/backend.js';

function installed(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

const nativeInstalled = installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu');

function capture(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return {
    logger: createLogger({ level: 'info', destination: stream }),
    lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe.skipIf(nativeInstalled)('initTfBackend without the native packages (this machine)', () => {
  it('chooses wasm, logs it, and says why tfjs-node-gpu and tfjs-node were skipped', async () => {
    const { logger, lines } = capture();
    const backend = await initTfBackend('auto', logger);
    expect(backend.name).toBe('wasm');
    expect(backend.tf.getBackend()).toBe('wasm');
    expect(backend.skipped.map((s) => s.provider)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    expect(backend.skipped.every((s) => s.reason === 'not installed')).toBe(true);
    const logged = lines().find((l) => l.backend === 'wasm');
    expect(logged?.msg).toMatch(/tfjs backend: wasm .*skipped @tensorflow\/tfjs-node-gpu: not installed; @tensorflow\/tfjs-node: not installed/);
    // The chosen backend computes.
    const sum = backend.tf.tidy(() => backend.tf.tensor1d([1, 2, 3]).sum().dataSync()[0]);
    expect(sum).toBe(6);
  });

  it("refuses 'tensorflow' with BACKEND_UNAVAILABLE when neither native package is installed", async () => {
    await expect(initTfBackend('tensorflow')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  it("gives the pure-JS cpu backend when asked for 'cpu', and wasm again after", async () => {
    expect((await initTfBackend('cpu')).name).toBe('cpu');
    expect((await initTfBackend('wasm')).tf.getBackend()).toBe('wasm');
  });
});
