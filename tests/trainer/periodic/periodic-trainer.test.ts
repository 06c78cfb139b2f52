import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { silentLogger } from '../../../core/logger.js';
import { ModelRegistry } from '../../../core/model/registry.js';
import { LocalStore } from '../../../core/storage/local-store.js';
import { PeriodicTrainer } from '../../../trainer/periodic/periodic-trainer.js';
import { parseSchedule } from '../../../trainer/periodic/schedule.js';
import { RUNS_PREFIX, trainerWorld } from '../../../trainer/periodic/trainer-world.js';
import { makeImageDataset } from '../../support/image-dataset.js';

const BACKBONE = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');

describe.skipIf(!existsSync(BACKBONE))('periodic trainer (real training, SqueezeNet backbone)', () => {
  it('trains on new data, skips unchanged data, retrains when a file changes, and records every run', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sw-periodic-'));
    const data = path.join(root, 'data');
    await makeImageDataset(data, 14, 48);
    const config = loadConfig({ env: { SKYWATCH_STATE_DIR: path.join(root, 'state'), SKYWATCH_BACKBONE: BACKBONE } });
    const registryUrl = path.join(root, 'registry');
    const registry = new ModelRegistry(new LocalStore(registryUrl));
    const trainer = new PeriodicTrainer(parseSchedule('1h'), trainerWorld({ config, registry, registryUrl, data, mode: 'transfer', logger: silentLogger }));

    const first = await trainer.runOnce();
    expect(first.decision, first.reason).toBe('promoted');
    expect((await registry.latest())?.version).toBe(first.version);

    const second = await trainer.runOnce();
    expect(second.decision).toBe('skipped');
    expect(second.dataFingerprint).toBe(first.dataFingerprint);

    writeFileSync(path.join(data, 'drone', 'new-drone.jpg'), await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 130, g: 170, b: 230 } } }).jpeg().toBuffer());
    const third = await trainer.runOnce();
    expect(['promoted', 'candidate']).toContain(third.decision);
    expect(third.dataFingerprint).not.toBe(first.dataFingerprint);

    const runs = await registry.store.list(RUNS_PREFIX);
    expect(runs).toHaveLength(3);
    await trainer.stop();
  });

  it('records a failed run instead of throwing', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sw-periodic-'));
    const config = loadConfig({ env: { SKYWATCH_STATE_DIR: path.join(root, 'state') } });
    const registry = new ModelRegistry(new LocalStore(path.join(root, 'registry')));
    const trainer = new PeriodicTrainer(parseSchedule('1h'), trainerWorld({ config, registry, registryUrl: path.join(root, 'registry'), data: path.join(root, 'missing'), mode: 'transfer', logger: silentLogger }));
    const run = await trainer.runOnce();
    expect(run.decision).toBe('failed');
    expect(run.reason).toMatch(/not found/);
    expect(await registry.store.list(RUNS_PREFIX)).toHaveLength(1);
  });
});
