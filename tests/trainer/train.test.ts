import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { createLogger } from '../../core/logger.js';
import { latestSchema, manifestSchema } from '../../core/model/manifest.js';
import { sha256File } from '../../core/hash.js';
import { runTraining, type TrainOptions } from '../../trainer/train.js';
import type { EpochRecord } from '../../trainer/fit/epoch-record.js';
import { writeShapeDataset } from './cnn/synthetic-images.js';

const BACKBONE = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');

let root: string;
let data: string;

function capturingLogger(): { logger: ReturnType<typeof createLogger>; messages: () => string[] } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return {
    logger: createLogger({ level: 'info', destination: stream }),
    messages: () => chunks.join('').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { msg: string }).msg),
  };
}

/** Tiny scratch settings: a two-block CNN at 32 px trains in seconds on two shared cores. */
function scratch(extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    data,
    stateDir: path.join(root, 'state'),
    registry: path.join(root, 'registry'),
    mode: 'scratch',
    imageSize: 32,
    filters: [8, 16],
    epochs: 8,
    batchSize: 16,
    learningRate: 0.01,
    patience: 4,
    seed: 3,
    ...extra,
  };
}

async function latest(): Promise<{ version: string } | null> {
  const file = path.join(root, 'registry', 'latest.json');
  return existsSync(file) ? latestSchema.parse(JSON.parse(await readFile(file, 'utf8'))) : null;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'skywatch-train-'));
  data = path.join(root, 'data');
  await writeShapeDataset(data, 40, 7, 64);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('runTraining', () => {
  it('scratch: trains, exports ONNX that ONNX Runtime runs, writes the run folder, publishes as latest', async () => {
    const { logger, messages } = capturingLogger();
    const result = await runTraining({ ...scratch(), logger, publish: true });

    expect(result.metrics.accuracy).toBeGreaterThanOrEqual(0.8);
    expect(result.decision).toMatchObject({ version: result.version, promoted: true });
    expect((await latest())?.version).toBe(result.version);
    expect(messages().some((m) => /no splits file.*generated/i.test(m))).toBe(true);
    expect(messages().some((m) => /tfjs backend: wasm/.test(m))).toBe(true);

    const files = (await readdir(result.runDir)).sort();
    expect(files).toEqual(['drift-baseline.json', 'manifest.json', 'metrics.json', 'metrics.jsonl', 'model.onnx', 'report.html']);
    const manifest = manifestSchema.parse(JSON.parse(await readFile(path.join(result.runDir, 'manifest.json'), 'utf8')));
    expect(manifest).toMatchObject({ version: result.version, kind: 'frame', labels: ['bar', 'disc'], output: { name: expect.any(String) }, parent: null });
    expect(manifest.sha256).toBe(await sha256File(path.join(result.runDir, 'model.onnx')));
    expect(manifest.metrics?.splitFingerprint).toMatch(/\w+/);
    expect(manifest.dataset?.fingerprint).toMatch(/\w+/);
    expect(manifest.training).toMatchObject({ mode: 'scratch', backend: 'wasm', seed: 3, imageSize: 32 });
    const lines = (await readFile(path.join(result.runDir, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as EpochRecord);
    expect(lines.length).toBe(manifest.training?.epochsRun);
    expect(lines[0]).toMatchObject({ epoch: 1, loss: expect.any(Number), valLoss: expect.any(Number) });
    expect(await readFile(path.join(result.runDir, 'report.html'), 'utf8')).toMatch(/<html/i);

    // The exported model answers with probabilities in manifest label order.
    const session = await ort.InferenceSession.create(path.join(result.runDir, 'model.onnx'));
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32]) });
    const probs = out[manifest.output.name].data as Float32Array;
    expect(probs.length).toBe(4);
    expect(probs[0] + probs[1]).toBeCloseTo(1, 4);
  });

  it('keeps a worse challenger as a candidate and leaves latest alone; --force promotes it', async () => {
    const champion = await latest();
    expect(champion).not.toBeNull();
    // One epoch at a learning rate too small to move the weights: about chance.
    const worse = await runTraining({ ...scratch({ epochs: 1, learningRate: 1e-6, seed: 4 }), publish: true });
    expect(worse.decision?.promoted).toBe(false);
    expect((await latest())?.version).toBe(champion?.version);
    const manifest = manifestSchema.parse(JSON.parse(await readFile(path.join(worse.runDir, 'manifest.json'), 'utf8')));
    expect(manifest.parent).toBe(champion?.version);

    const forced = await runTraining({ ...scratch({ epochs: 1, learningRate: 1e-6, seed: 5 }), publish: true, force: true });
    expect(forced.decision?.promoted).toBe(true);
    expect((await latest())?.version).toBe(forced.version);
  });

  it('stops on abort mid-training with TRAINING_ABORTED and publishes nothing', async () => {
    const before = await latest();
    const modelsBefore = (await readdir(path.join(root, 'registry', 'models'))).sort();
    const controller = new AbortController();
    const err = await runTraining({
      ...scratch({ epochs: 5, seed: 6 }),
      publish: true,
      signal: controller.signal,
      progress: { step: (p) => (p.epoch === 2 ? controller.abort() : undefined), epoch() {}, note() {}, close() {} },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TRAINING_ABORTED' });
    expect(await latest()).toEqual(before);
    expect((await readdir(path.join(root, 'registry', 'models'))).sort()).toEqual(modelsBefore);
    const runs = await readdir(path.join(root, 'state', 'runs'));
    const unfinished = runs.filter((r) => !existsSync(path.join(root, 'state', 'runs', r, 'manifest.json')));
    expect(unfinished.length).toBe(1);
    expect(existsSync(path.join(root, 'state', 'runs', unfinished[0], 'metrics.jsonl'))).toBe(true);
  });

  it.skipIf(!existsSync(BACKBONE))('transfer: a head on SqueezeNet embeddings separates the shapes (skipped without ../shared/data backbone)', async () => {
    const result = await runTraining({ ...scratch(), mode: 'transfer', backbone: BACKBONE, epochs: 30, patience: 5, learningRate: 1e-3 });
    expect(result.metrics.accuracy).toBeGreaterThanOrEqual(0.9);
    const manifest = manifestSchema.parse(JSON.parse(await readFile(path.join(result.runDir, 'manifest.json'), 'utf8')));
    expect(manifest.training).toMatchObject({ mode: 'transfer', backbone: path.basename(BACKBONE) });
    expect(manifest.input.height).toBe(224);
  });
});
