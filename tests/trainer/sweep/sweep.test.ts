import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStore } from '../../../core/storage/local-store.js';
import { ModelRegistry } from '../../../core/model/registry.js';
import { RunStore } from '../../../trainer/runs/run-store.js';
import { runSweep } from '../../../trainer/sweep/run-sweep.js';
import { expandTrials, parseSweepSpec } from '../../../trainer/sweep/sweep-spec.js';
import { writeShapeDataset } from '../cnn/synthetic-images.js';

describe('sweep files', () => {
  it('a grid is the cartesian product; a random search draws reproducibly inside its ranges', () => {
    const grid = parseSweepSpec(JSON.stringify({ method: 'grid', parameters: { learningRate: [0.01, 0.001], batchSize: [16, 32, 64] } }), 'grid.json');
    const trials = expandTrials(grid);
    expect(trials).toHaveLength(6);
    expect(trials).toContainEqual({ learningRate: 0.001, batchSize: 64 });
    const random = parseSweepSpec(JSON.stringify({ method: 'random', trials: 20, seed: 4, parameters: { learningRate: { min: 1e-4, max: 1e-2, log: true }, patience: { min: 2, max: 9, integer: true }, augment: [true, false] } }), 'r.json');
    const a = expandTrials(random);
    expect(a).toEqual(expandTrials(random));
    for (const t of a) {
      expect(t.learningRate).toBeGreaterThanOrEqual(1e-4);
      expect(t.learningRate).toBeLessThanOrEqual(1e-2);
      expect(Number.isInteger(t.patience)).toBe(true);
    }
    // Log-uniform: about half the draws below the geometric middle (1e-3).
    expect(a.filter((t) => (t.learningRate as number) < 1e-3).length).toBeGreaterThan(4);
  });

  it('rejects what it cannot run, naming the problem', () => {
    expect(() => parseSweepSpec('{', 'x.json')).toThrow(/x.json is not JSON/);
    expect(() => parseSweepSpec(JSON.stringify({ method: 'grid', parameters: { learningRate: { min: 0.1, max: 1 } } }), 'g.json')).toThrow(/list of values/);
    expect(() => parseSweepSpec(JSON.stringify({ method: 'random', parameters: { learningRate: [0.1] } }), 'r.json')).toThrow(/needs "trials"/);
    expect(() => parseSweepSpec(JSON.stringify({ method: 'grid', parameters: { dropout: [0.1] } }), 'd.json')).toThrow(/parameters/);
  });
});

describe('runSweep', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'skywatch-sweep-'));
    await writeShapeDataset(path.join(root, 'data'), 24, 5, 48);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('records every trial, ranks by validation loss and publishes only the best through champion/challenger', async () => {
    const registry = path.join(root, 'registry');
    const spec = parseSweepSpec(JSON.stringify({ method: 'grid', parameters: { learningRate: [0.02, 0.00001] } }), 'sweep.json');
    const sweep = await runSweep(spec, { data: path.join(root, 'data'), stateDir: path.join(root, 'state'), registry, mode: 'scratch', imageSize: 32, filters: [8, 16], epochs: 3, batchSize: 16, patience: 0, seed: 2, publish: true });
    expect(sweep.trials).toHaveLength(2);
    expect(sweep.trials.every((t) => t.run && t.valLoss !== null)).toBe(true);
    const [fast, slow] = sweep.trials;
    // A learning rate of 1e-5 barely moves the weights in three epochs: its validation loss stays higher.
    expect(fast.valLoss!).toBeLessThan(slow.valLoss!);
    expect(sweep.best?.trial).toBe(1);
    expect(sweep.decision).toMatchObject({ version: fast.run, promoted: true });
    const reg = new ModelRegistry(new LocalStore(registry));
    expect((await reg.latest())?.version).toBe(fast.run);
    expect((await reg.list()).map((m) => m.version)).toEqual([fast.run]);
    expect(existsSync(path.join(registry, 'models', fast.run!, 'drift-baseline.json'))).toBe(true);
    const runs = (await new RunStore(new LocalStore(registry)).list()).filter((r) => r.sweep?.id === sweep.id);
    expect(runs.map((r) => r.sweep?.trial).sort()).toEqual([1, 2]);
    expect(runs.find((r) => r.sweep?.trial === 2)?.params.learningRate).toBe(0.00001);
    const summary = JSON.parse(await readFile(path.join(registry, 'runs', sweep.id, 'sweep.json'), 'utf8')) as { best: { trial: number } };
    expect(summary.best.trial).toBe(1);
    expect(await readdir(path.join(root, 'state', 'runs'))).toHaveLength(2);
  }, 300_000);
});
