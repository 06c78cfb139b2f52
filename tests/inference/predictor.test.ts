import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { MicroBatcher } from '../../inference/micro-batcher.js';
import { ModelHolder } from '../../inference/model-holder.js';
import { Predictor } from '../../inference/predictor.js';
import { publishTiny } from '../support/tiny-model.js';

let holder: ModelHolder;
let predictor: Predictor;
let registry: ModelRegistry;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sw-predictor-'));
  registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
  holder = new ModelHolder({ registry, cacheDir: path.join(dir, 'cache'), threads: { intraOpThreads: 1 }, pollIntervalMs: 60_000, logger: silentLogger });
  predictor = new Predictor(holder, new MicroBatcher({ maxBatch: 8, maxWaitMs: 2 }), { maxPixels: 1_000_000 });
});
afterAll(() => holder.stop());

function rgb(width: number, height: number, [r, g, b]: number[]): Buffer {
  const out = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) out.set([r, g, b], i * 3);
  return out;
}

describe('Predictor', () => {
  it('answers NO_MODEL before a model is published', async () => {
    await expect(predictor.predict(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer())).rejects.toMatchObject({ code: 'NO_MODEL' });
  });

  it('classifies uploads: label, confidence, scores, top-k, version and timings', async () => {
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    await holder.reload();
    const png = await sharp({ create: { width: 30, height: 20, channels: 4, background: { r: 10, g: 10, b: 250, alpha: 0.5 } } }).png().toBuffer();
    const p = await predictor.predict(png, 2);
    expect(p).toMatchObject({ label: 'drone', modelVersion: 'v1', batchSize: 1 });
    expect(p.confidence).toBeCloseTo(p.scores.drone, 6);
    expect(p.scores.bird + p.scores.drone).toBeCloseTo(1, 5);
    expect(p.top?.map((t) => t.label)).toEqual(['drone', 'bird']);
    expect(p.inferenceMs).toBeGreaterThanOrEqual(0);
    // A greyscale image is expanded to three equal channels: neither colour wins by much.
    const grey = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).greyscale().jpeg().toBuffer();
    expect((await predictor.predict(grey)).confidence).toBeLessThan(0.6);
  });

  it('classifies raw RGB crops, rescaling those prepared for another input size', async () => {
    await holder.reload();
    const exact = await predictor.predictRgb(rgb(16, 16, [240, 0, 0]), 16, 16);
    const other = await predictor.predictRgb(rgb(48, 32, [240, 0, 0]), 48, 32);
    expect(exact.label).toBe('bird');
    expect(other.label).toBe('bird');
    expect(other.confidence).toBeCloseTo(exact.confidence, 3);
    await expect(predictor.predictRgb(Buffer.alloc(10), 16, 16)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
