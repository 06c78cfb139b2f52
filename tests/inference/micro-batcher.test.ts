import { describe, expect, it } from 'vitest';
import { isSkywatchError } from '../../core/errors.js';
import { MicroBatcher, type BatchResult } from '../../inference/micro-batcher.js';
import { LoadedModel } from '../../inference/model-holder.js';
import { OnnxModel } from '../../inference/onnx-model.js';
import { rgbToTensor } from '../../inference/preprocess.js';
import { tinyManifest, tinyModel } from '../support/tiny-model.js';

async function loaded(version: string, flip = false): Promise<LoadedModel> {
  const bytes = tinyModel(flip);
  const manifest = tinyManifest(version, bytes);
  return new LoadedModel(await OnnxModel.load(bytes, manifest, { intraOpThreads: 1 }), manifest, new Date());
}

/** A 16x16 image of one colour, already normalised as the tiny model's manifest says (x / 255). */
function colour(r: number, g: number, b: number): Float32Array {
  const t = new Float32Array(3 * 16 * 16);
  [r, g, b].forEach((v, c) => t.fill(v / 255, c * 256, (c + 1) * 256));
  return t;
}

const labelOf = (r: BatchResult) => r.labels[r.probs[0] > r.probs[1] ? 0 : 1];

describe('MicroBatcher', () => {
  it('runs concurrent callers as batches and gives each caller its own row', async () => {
    const model = await loaded('v1');
    const sizes: number[] = [];
    const batcher = new MicroBatcher({ maxBatch: 4, maxWaitMs: 20, onBatch: (n) => sizes.push(n) });
    const inputs = Array.from({ length: 10 }, (_, i) => (i % 3 === 0 ? colour(240, 10, 10) : colour(10, 10, 240)));
    const results = await Promise.all(inputs.map((t) => batcher.infer(model, t)));
    expect(results.map(labelOf)).toEqual(inputs.map((_, i) => (i % 3 === 0 ? 'bird' : 'drone')));
    // Four arrive at once: a full batch runs at once; the rest fill the next batches while it runs.
    expect(sizes).toEqual([4, 4, 2]);
    expect(results.every((r) => r.modelVersion === 'v1' && r.probs.length === 2)).toBe(true);
    expect(results[9].batchSize).toBe(2);
    expect(batcher.queued).toBe(0);
    await model.model.release();
  });

  it('normalises RGB images into the batch exactly as rgbToTensor does, sharing batches with tensors', async () => {
    const model = await loaded('v1');
    const sizes: number[] = [];
    const batcher = new MicroBatcher({ maxBatch: 8, maxWaitMs: 20, onBatch: (n) => sizes.push(n) });
    const rgbs = Array.from({ length: 3 }, (_, k) => Uint8Array.from({ length: 3 * 16 * 16 }, (_, i) => (i * 37 + k * 101) % 256));
    const [a, b, c, d] = await Promise.all([
      ...rgbs.map((rgb) => batcher.inferRgb(model, rgb)),
      batcher.infer(model, rgbToTensor(rgbs[1], model.manifest.input)),
    ]);
    expect(sizes).toEqual([4]);
    expect(a.fillMs).toBeGreaterThanOrEqual(0);
    // The same floats, so the same row whichever way the image came in.
    expect([...b.probs]).toEqual([...d.probs]);
    const alone = await Promise.all(rgbs.map((rgb) => batcher.infer(model, rgbToTensor(rgb, model.manifest.input))));
    expect([a, b, c].map((r) => [...r.probs])).toEqual(alone.map((r) => [...r.probs]));
    await expect(batcher.inferRgb(model, new Uint8Array(5))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await model.model.release();
  });

  it('fills the same input memory batch after batch, on the inference thread and in process, without mixing batches', async () => {
    for (const offThread of [true, false]) {
      const bytes = tinyModel();
      const manifest = tinyManifest('v1', bytes);
      const model = new LoadedModel(await OnnxModel.load(bytes, manifest, { intraOpThreads: 1, offThread }), manifest, new Date());
      const batcher = new MicroBatcher({ maxBatch: 2, maxWaitMs: 5 });
      const red = colour(240, 10, 10);
      const blue = colour(10, 10, 240);
      const fresh = await Promise.all([red, blue].map((t) => model.model.run(Float32Array.from(t), 1)));
      for (let round = 0; round < 4; round++) {
        const pair = round % 2 ? [blue, red] : [red, blue];
        const results = await Promise.all(pair.map((t) => batcher.infer(model, t)));
        expect(results.map((r) => r.batchSize)).toEqual([2, 2]);
        expect(results.map((r) => [...r.probs])).toEqual(pair.map((t) => [...fresh[t === red ? 0 : 1]]));
      }
      // The tensor handed out next is the last batch's memory, back from the run (blue, then red).
      const again = model.model.inputTensor(2);
      expect([...again.subarray(0, red.length)]).toEqual([...blue]);
      expect([...again.subarray(red.length)]).toEqual([...red]);
      // A caller's own array is never taken over: it is still usable after the run in process.
      if (!offThread) {
        const mine = Float32Array.from(red);
        await model.model.run(mine, 1);
        expect(model.model.inputTensor(1)).not.toBe(mine);
      }
      await model.model.release();
    }
  });

  it('waits at most maxWaitMs for a batch to fill, and runs a lone request alone', async () => {
    const model = await loaded('v1');
    const sizes: number[] = [];
    const batcher = new MicroBatcher({ maxBatch: 8, maxWaitMs: 5, onBatch: (n) => sizes.push(n) });
    const one = await batcher.infer(model, colour(200, 0, 0));
    expect(one.batchSize).toBe(1);
    expect(labelOf(one)).toBe('bird');
    const two = await Promise.all([batcher.infer(model, colour(0, 0, 200)), batcher.infer(model, colour(200, 0, 0))]);
    expect(two.map((r) => r.batchSize)).toEqual([2, 2]);
    expect(sizes).toEqual([1, 2]);
    await model.model.release();
  });

  it('keeps one lane per model, so requests prepared for an outgoing model finish on it', async () => {
    const [v1, v2] = await Promise.all([loaded('v1'), loaded('v2', true)]);
    const batcher = new MicroBatcher({ maxBatch: 8, maxWaitMs: 10 });
    const red = colour(230, 0, 0);
    const answers = await Promise.all([v1, v2, v1, v2].map((m) => batcher.infer(m, red)));
    expect(answers.map((a) => [a.modelVersion, labelOf(a), a.batchSize])).toEqual([['v1', 'bird', 2], ['v2', 'drone', 2], ['v1', 'bird', 2], ['v2', 'drone', 2]]);
    await v1.model.release();
    await v2.model.release();
  });

  it('rejects only the callers a failure concerns', async () => {
    const [good, gone] = await Promise.all([loaded('good'), loaded('gone')]);
    await gone.model.release();
    const batcher = new MicroBatcher({ maxBatch: 8, maxWaitMs: 5 });
    const settled = await Promise.allSettled([
      batcher.infer(good, colour(200, 0, 0)),
      batcher.infer(good, new Float32Array(7)),
      batcher.infer(gone, colour(200, 0, 0)),
      batcher.infer(good, colour(0, 0, 200)),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    const reason = (i: number) => (settled[i] as PromiseRejectedResult).reason;
    expect(isSkywatchError(reason(1), 'BAD_REQUEST')).toBe(true);
    expect(isSkywatchError(reason(2), 'NO_MODEL')).toBe(true);
    expect((settled[3] as PromiseFulfilledResult<BatchResult>).value.batchSize).toBe(2);
    // The batcher is not wedged by the failures.
    expect(labelOf(await batcher.infer(good, colour(0, 0, 255)))).toBe('drone');
    await good.model.release();
  });
});
