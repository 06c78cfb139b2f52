import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { isSkywatchError } from '../../../core/errors.js';
import { silentLogger } from '../../../core/logger.js';
import type { ModelManifest } from '../../../core/model/manifest.js';
import { ModelRegistry } from '../../../core/model/registry.js';
import { LocalStore } from '../../../core/storage/local-store.js';
import { MicroBatcher } from '../../../inference/micro-batcher.js';
import { ModelHolder } from '../../../inference/model-holder.js';
import { Predictor } from '../../../inference/predictor.js';
import { buildTracksFromVideos } from '../../../trainer/data/tracks-from-videos.js';
import { DEFAULT_PHOTO_MODEL } from '../../../trainer/photo/train-photo-heads.js';
import { trainTrackModel } from '../../../trainer/track/train-track-model.js';
import { buildServer } from '../../../web/server.js';

const exec = promisify(execFile);
const VIDEOS = path.resolve('../shared/data/videos');
const IMAGES = path.resolve('../shared/data/images');
const BACKBONE = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');
const SETTINGS = { folds: 2, maxCropsPerTrack: 8, crop: { epochs: 3, learningRate: 1e-3, batchSize: 32 }, track: { epochs: 4, learningRate: 3e-3, batchSize: 32 } };

interface Answer {
  label: string;
  scores: Record<string, number>;
  modelVersion: string;
}

describe.skipIf(!existsSync(VIDEOS) || !existsSync(BACKBONE) || !existsSync(IMAGES))('the photo model beside a track model', () => {
  it('is trained from the photographs, published with a checked sha256, and answers /v1/predict and the CLI; camera crops and versions without one keep the crop model', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sw-photo-'));
    for (const label of readdirSync(VIDEOS).sort()) {
      mkdirSync(path.join(root, 'clips', label), { recursive: true });
      for (const f of readdirSync(path.join(VIDEOS, label)).sort().slice(0, 2)) symlinkSync(path.join(VIDEOS, label, f), path.join(root, 'clips', label, f));
    }
    await buildTracksFromVideos(path.join(root, 'clips'), path.join(root, 'tracks'), { concurrency: 2, maxFrames: 25 });
    // A few real photographs of each label, in split folders as ../shared/data/images is: train/ trains, valid/ is left out.
    for (const [split, n] of [['train', 16], ['valid', 4]] as const) {
      for (const label of ['bird', 'drone']) {
        mkdirSync(path.join(root, 'photos', split, label), { recursive: true });
        // Copies: the data set scan does not follow symbolic links.
        for (const f of readdirSync(path.join(IMAGES, split, label)).sort().slice(0, n)) copyFileSync(path.join(IMAGES, split, label, f), path.join(root, 'photos', split, label, f));
      }
    }
    const registryDir = path.join(root, 'registry');
    const result = await trainTrackModel({
      tracks: path.join(root, 'tracks'), photos: path.join(root, 'photos'), photoModel: { heads: 2, epochs: 3 }, registry: registryDir, stateDir: path.join(root, 'state'), backbone: BACKBONE, seed: 3, testFolds: 2, publish: true, logger: silentLogger, tracking: false,
      settings: SETTINGS,
    });
    expect(result.decision?.promoted).toBe(true);
    const registry = new ModelRegistry(new LocalStore(registryDir));
    const { manifest, files } = await registry.show('latest');
    expect(files).toEqual(expect.arrayContaining(['model.onnx', 'track.onnx', 'photo.onnx']));
    // The photo model looks at photographs through the same backbone at its own, larger input size.
    const photoSize = DEFAULT_PHOTO_MODEL.inputSize;
    expect(photoSize).toBeGreaterThan(manifest.input.width);
    expect(manifest.photo).toMatchObject({ file: 'photo.onnx', labels: ['bird', 'drone'], heads: 2, input: { ...manifest.input, width: photoSize, height: photoSize }, gate: { column: 'photograph', keepCropAbove: 0.9 } });
    // Both models learn from train/ only: valid/ stays photographs no model saw.
    expect(manifest.training?.photoModel).toMatchObject({ heads: 2, epochs: 3, inputSize: photoSize, photographs: 32, cropModelPhotographs: 32 });
    expect(manifest.training?.photoModel).toMatchObject({ seconds: expect.any(Number) });
    // The registry checks the photo model's checksum like the model's.
    await expect(registry.verify(manifest.version)).resolves.toMatchObject({ version: manifest.version });

    const holder = new ModelHolder({ registry, cacheDir: path.join(root, 'cache'), threads: { intraOpThreads: 1, interOpThreads: 1 }, pollIntervalMs: 60_000, logger: silentLogger });
    expect(await holder.reload()).toBe('loaded');
    const predictor = new Predictor(holder, new MicroBatcher({ maxBatch: 8, maxWaitMs: 2 }), { maxPixels: 40_000_000 });
    const photoFile = path.join(IMAGES, 'valid', 'drone', readdirSync(path.join(IMAGES, 'valid', 'drone')).sort()[0]);
    const photo = await readFile(photoFile);
    let served: Record<string, number> = {};
    try {
      const answer = await predictor.predict(photo);
      served = answer.scores;
      // Every label of the crop model, bird and drone split by the photo model (inference/photo-answer.ts).
      expect(Object.keys(answer.scores)).toEqual(manifest.labels);
      expect(Object.values(answer.scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      expect(answer.modelVersion).toBe(manifest.version);
      // A camera crop still goes to the crop model, over the track model's labels.
      const crop = await predictor.predictRgb(new Uint8Array(32 * 32 * 3).fill(128), 32, 32);
      expect(Object.keys(crop.scores)).toEqual(manifest.labels);
    } finally {
      await holder.stop();
    }

    // Through the HTTP API, with real ONNX Runtime.
    const config = loadConfig({ env: { SKYWATCH_STATE_DIR: path.join(root, 'api-state'), SKYWATCH_POLL_INTERVAL_MS: '60000' } });
    const server = await buildServer({ config, logger: silentLogger, registry });
    try {
      const url = await server.listen(0);
      // Listening starts the holder's first load; this waits for it (or does it).
      await server.holder.reload();
      expect(server.holder.current?.version).toBe(manifest.version);
      const res = await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(photo) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as Answer;
      expect(Object.keys(body.scores).sort()).toEqual([...manifest.labels].sort());
      expect(body.modelVersion).toBe(manifest.version);
    } finally {
      await server.close();
    }

    // The CLI's local predict takes the same model.
    const cli = await exec('node', [path.resolve('bin/skywatch.mjs'), 'predict', photoFile, '--registry', registryDir, '--model', manifest.version, '--json'], { env: { ...process.env, SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_STATE_DIR: path.join(root, 'cli-state') } });
    const printed = JSON.parse(cli.stdout) as { predictions: Answer[] };
    expect(Object.keys(printed.predictions[0].scores)).toEqual(manifest.labels);
    // The same answer as the server's: the gate's column read the same way on both paths.
    for (const l of manifest.labels) expect(printed.predictions[0].scores[l]).toBeCloseTo(served[l], 4);
    expect(printed.predictions[0].modelVersion).toBe(manifest.version);

    // `skywatch eval` scores photographs as /v1/predict answers them (the crop model and the photo model
    // combined), or the crop model alone with --crop-model: its accuracy is that of the local predict's
    // top labels on the same held-out photographs (valid/, which trained nothing).
    const validDir = path.join(root, 'photos', 'valid');
    const validFiles = ['bird', 'drone'].flatMap((label) => readdirSync(path.join(validDir, label)).sort().map((f) => ({ label, file: path.join(validDir, label, f) })));
    const predicted = JSON.parse((await exec('node', [path.resolve('bin/skywatch.mjs'), 'predict', ...validFiles.map((v) => v.file), '--registry', registryDir, '--model', manifest.version, '--json'], { env: { ...process.env, SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_STATE_DIR: path.join(root, 'cli-state') } })).stdout) as { predictions: Answer[] };
    const topLabel = (scores: Record<string, number>) => Object.entries(scores).sort((a, b) => b[1] - a[1])[0][0];
    const servedRight = predicted.predictions.filter((p, i) => topLabel(p.scores) === validFiles[i].label).length;
    const evalRun = async (...extra: string[]) => JSON.parse((await exec('node', [path.resolve('bin/skywatch.mjs'), 'eval', '--model', manifest.version, '--registry', registryDir, '--data', validDir, '--json', ...extra], { env: { ...process.env, SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_STATE_DIR: path.join(root, 'cli-state') } })).stdout) as { answeredBy: string; metrics: { accuracy: number; count: number } };
    const asServed = await evalRun();
    expect(asServed.answeredBy).toContain('photo model');
    expect(asServed.metrics.count).toBe(validFiles.length);
    expect(asServed.metrics.accuracy).toBeCloseTo(servedRight / validFiles.length, 6);
    const cropOnly = await evalRun('--crop-model');
    expect(cropOnly.answeredBy).toBe('crop model');
    expect(cropOnly.metrics.count).toBe(validFiles.length);

    // A version without a photo model (the same files, its manifest without `photo`) answers photographs with the crop model.
    const runModel = path.join(result.runDir, 'model.onnx');
    const plainVersion = `${manifest.version}-plain`;
    const { photo: _photo, ...plain } = manifest;
    const plainManifest: ModelManifest = { ...plain, version: plainVersion };
    await registry.publish({ version: plainVersion, modelPath: runModel, manifest: plainManifest, files: { 'track.onnx': readFileSync(path.join(result.runDir, 'track.onnx')) }, promote: 'force' });
    const plainHolder = new ModelHolder({ registry, cacheDir: path.join(root, 'cache'), threads: { intraOpThreads: 1, interOpThreads: 1 }, pollIntervalMs: 60_000, logger: silentLogger });
    expect(await plainHolder.reload()).toBe('loaded');
    try {
      const answer = await new Predictor(plainHolder, new MicroBatcher({ maxBatch: 8, maxWaitMs: 2 }), { maxPixels: 40_000_000 }).predict(photo);
      expect(Object.keys(answer.scores)).toEqual(manifest.labels);
      expect(answer.modelVersion).toBe(plainVersion);
    } finally {
      await plainHolder.stop();
    }
    // ... and `eval --crop-model` scores exactly what that version answers.
    const plainPredicted = JSON.parse((await exec('node', [path.resolve('bin/skywatch.mjs'), 'predict', ...validFiles.map((v) => v.file), '--registry', registryDir, '--model', plainVersion, '--json'], { env: { ...process.env, SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_STATE_DIR: path.join(root, 'cli-state') } })).stdout) as { predictions: Answer[] };
    expect(cropOnly.metrics.accuracy).toBeCloseTo(plainPredicted.predictions.filter((p, i) => topLabel(p.scores) === validFiles[i].label).length / validFiles.length, 6);

    // A photo model that does not match its manifest is refused: at publish, and when fetched.
    const tamperedVersion = `${manifest.version}-bad`;
    const photoBytes = readFileSync(path.join(result.runDir, 'photo.onnx'));
    const publishTampered = registry.publish({ version: tamperedVersion, modelPath: runModel, manifest: { ...manifest, version: tamperedVersion }, files: { 'track.onnx': readFileSync(path.join(result.runDir, 'track.onnx')), 'photo.onnx': Buffer.concat([photoBytes, Buffer.from([0])]) }, promote: 'never' });
    expect(isSkywatchError(await publishTampered.catch((e: unknown) => e), 'MODEL_CHECKSUM')).toBe(true);
    writeFileSync(path.join(registryDir, 'models', manifest.version, 'photo.onnx'), Buffer.concat([photoBytes, Buffer.from([0])]));
    const err = await registry.verify(manifest.version).catch((e: unknown) => e);
    expect(isSkywatchError(err, 'MODEL_CHECKSUM')).toBe(true);

    // The CLI takes the photographs too (`train --kind track --photos`): a folder that is not there is
    // named in the error before any training, and --photos without --kind track is refused.
    const cliEnv = { env: { ...process.env, SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_STATE_DIR: path.join(root, 'cli-state') } };
    const missing = path.join(root, 'no-such-photos');
    const failed = await exec('node', [path.resolve('bin/skywatch.mjs'), 'train', '--kind', 'track', '--data', path.join(root, 'tracks'), '--photos', missing, '--registry', registryDir], cliEnv).catch((e: { code: number; stderr: string }) => e);
    expect((failed as { code: number }).code).not.toBe(0);
    expect((failed as { stderr: string }).stderr).toContain(missing);
    const misplaced = await exec('node', [path.resolve('bin/skywatch.mjs'), 'train', '--photos', path.join(root, 'photos')], cliEnv).catch((e: { code: number; stderr: string }) => e);
    expect((misplaced as { stderr: string }).stderr).toContain('BAD_REQUEST: --photos applies to --kind track only');
    const int8Frame = await exec('node', [path.resolve('bin/skywatch.mjs'), 'train', '--int8-crops'], cliEnv).catch((e: { code: number; stderr: string }) => e);
    expect((int8Frame as { stderr: string }).stderr).toContain('BAD_REQUEST: --int8-crops applies to --kind track only');
  }, 600_000);
});
