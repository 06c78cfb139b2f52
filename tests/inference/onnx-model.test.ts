import { describe, expect, it } from 'vitest';
import { OnnxModel } from '../../inference/onnx-model.js';
import { tinyManifest, tinyModel } from '../support/tiny-model.js';

function batch(n: number): Float32Array {
  const t = new Float32Array(n * 3 * 16 * 16);
  // Image i leans red for even i, blue for odd i.
  for (let i = 0; i < n; i++) t.fill(0.8, i * 768 + (i % 2 ? 512 : 0), i * 768 + (i % 2 ? 768 : 256));
  return t;
}

describe('OnnxModel', () => {
  it('answers the same on a worker thread as on the calling thread', async () => {
    const bytes = tinyModel();
    const manifest = tinyManifest('t', bytes);
    const here = await OnnxModel.load(bytes, manifest, { intraOpThreads: 1 });
    const there = await OnnxModel.load(bytes, manifest, { intraOpThreads: 1, offThread: true });
    const a = await here.run(batch(3), 3);
    const b = await there.run(batch(3), 3);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(a[0]).toBeGreaterThan(0.9);
    expect(a[3]).toBeGreaterThan(0.9);
    await there.warmup(4);
    expect(there.healthy).toBe(true);
    await there.release();
    expect(there.healthy).toBe(false);
    await expect(there.run(batch(1), 1)).rejects.toMatchObject({ code: 'NO_MODEL' });
    await here.release();
  });

  it('refuses bytes that are not a model, on either thread', async () => {
    const manifest = tinyManifest('bad', Buffer.from('x'));
    for (const offThread of [false, true]) {
      await expect(OnnxModel.load(new Uint8Array(Buffer.from('not an onnx file')), manifest, { offThread })).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    }
  });

  it('checks batch sizes and output sizes against the manifest', async () => {
    const bytes = tinyModel();
    const model = await OnnxModel.load(bytes, { ...tinyManifest('t', bytes), labels: ['a', 'b', 'c'] }, { offThread: true });
    await expect(model.run(batch(2), 3)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(model.run(batch(2), 2)).rejects.toMatchObject({ code: 'MODEL_OUTPUT_MISMATCH' });
    await model.release();
  });
});
