import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scanDataset } from '../../../trainer/data/scan.js';
import { evaluateDetailed, type EvaluateRequest } from '../../../trainer/eval/evaluate.js';
import { makeImageDataset } from '../../support/image-dataset.js';
import { tinyManifest, tinyModel } from '../../support/tiny-model.js';

let root: string;
let request: (flip: boolean) => EvaluateRequest;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'sw-eval-'));
  const data = path.join(root, 'data');
  await makeImageDataset(data, 8, 24);
  const files = (await scanDataset(data)).items.map((i) => ({ path: path.join(data, i.path), label: i.label }));
  request = (flip) => {
    const bytes = tinyModel(flip);
    const modelPath = path.join(root, flip ? 'flipped.onnx' : 'model.onnx');
    writeFileSync(modelPath, bytes);
    const manifest = tinyManifest('t', bytes);
    return { modelPath, input: manifest.input, outputName: manifest.output.name, labels: manifest.labels, files, batchSize: 5, threads: 1 };
  };
});

describe('evaluateDetailed on a real ONNX Runtime session', () => {
  it('measures a model that tells the labels apart, and one that swaps them', async () => {
    const progress: number[] = [];
    const good = await evaluateDetailed({ ...request(false), onProgress: (done) => progress.push(done) });
    expect(good.metrics.count).toBe(16);
    expect(good.metrics.accuracy).toBe(1);
    expect(good.metrics.confusion).toEqual([[8, 0], [0, 8]]);
    expect(good.metrics.rocAuc).toEqual({ bird: 1, drone: 1 });
    expect(good.metrics.splitFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(progress).toEqual([5, 10, 15, 16]);
    expect(good.predictions.every((p) => p.predicted === p.label && p.confidence > 0.5)).toBe(true);
    expect(good.curves.roc.drone.at(-1)).toEqual({ x: 1, y: 1 });

    const swapped = await evaluateDetailed(request(true));
    expect(swapped.metrics.accuracy).toBe(0);
    expect(swapped.metrics.confusion).toEqual([[0, 8], [8, 0]]);
    expect(swapped.metrics.rocAuc.drone).toBe(0);
  });

  it('skips an unreadable image with its path and still measures the rest', async () => {
    const broken = path.join(root, 'broken.jpg');
    writeFileSync(broken, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 1]));
    const base = request(false);
    const result = await evaluateDetailed({ ...base, files: [...base.files, { path: broken, label: 'drone' }] });
    expect(result.skipped.map((s) => s.path)).toEqual([broken]);
    expect(result.metrics.count).toBe(16);
    expect(result.predictions).toHaveLength(16);
  });

  it('refuses data whose labels the model does not know, naming them', async () => {
    const base = request(false);
    await expect(evaluateDetailed({ ...base, files: [...base.files, { path: base.files[0].path, label: 'helicopter' }] }))
      .rejects.toMatchObject({ code: 'DATA_INVALID', message: expect.stringMatching(/helicopter/) });
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(evaluateDetailed({ ...request(false), signal: controller.signal })).rejects.toMatchObject({ code: 'TRAINING_ABORTED' });
  });
});
