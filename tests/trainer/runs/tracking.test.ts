import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { isSkywatchError } from '../../../core/errors.js';
import { LocalStore } from '../../../core/storage/local-store.js';
import { runTraining, type TrainOptions, type TrainResult } from '../../../trainer/train.js';
import { comparisonHtml, compareRuns } from '../../../trainer/runs/compare-runs.js';
import { exportMlflow } from '../../../trainer/runs/mlflow-export.js';
import { RunStore } from '../../../trainer/runs/run-store.js';
import { parseDriftBaseline } from '../../../drift/drift-baseline.js';
import type { TrainingProfile } from '../../../trainer/profile/phase-profiler.js';
import { silentProgress } from '../../../trainer/fit/progress.js';
import { writeShapeDataset } from '../cnn/synthetic-images.js';

const exec = promisify(execFile);
let root: string;
let data: string;
let registry: string;
const results: TrainResult[] = [];

function scratch(extra: Partial<TrainOptions> = {}): TrainOptions {
  return { data, stateDir: path.join(root, 'state'), registry, mode: 'scratch', imageSize: 32, filters: [8, 16], epochs: 3, batchSize: 16, learningRate: 0.01, patience: 0, seed: 3, ...extra };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'skywatch-runs-'));
  data = path.join(root, 'data');
  registry = path.join(root, 'registry');
  await writeShapeDataset(data, 30, 7, 48);
  // Two real runs that differ in one parameter, the first profiled.
  results.push(await runTraining(scratch({ publish: true, profileSteps: 4 })));
  results.push(await runTraining(scratch({ learningRate: 0.003 })));
}, 600_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('experiment tracking', () => {
  it('records every run in the registry store with parameters, data, code, epochs, final metrics, artifacts and machine', async () => {
    const runs = new RunStore(new LocalStore(registry));
    const [a, b] = results;
    const rec = await runs.get(a.version);
    expect(rec).toMatchObject({ id: a.version, status: 'finished', modelVersion: a.version, published: { promoted: true } });
    expect(rec.params).toMatchObject({ mode: 'scratch', epochs: 3, learningRate: 0.01, seed: 3, imageSize: 32 });
    expect(rec.data.fingerprint).toMatch(/\w{16}/);
    expect(rec.data.counts?.train).toBeDefined();
    expect(rec.code.version).toBe('0.1.0');
    expect(rec.code.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(rec.machine.cpus).toBeGreaterThan(0);
    expect(rec.machine.backend).toBe('wasm');
    expect(rec.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(rec.metrics?.accuracy).toBe(a.metrics.accuracy);
    expect(rec.durationSeconds).toBeGreaterThan(0);
    expect(rec.artifacts.map((x) => x.name)).toContain('model.onnx');
    // The drift baseline is published beside the model, from the held-out splits.
    const baseline = parseDriftBaseline(await readFile(path.join(registry, 'models', a.version, 'drift-baseline.json')));
    expect(baseline).toMatchObject({ model: a.version, labels: ['bar', 'disc'] });
    expect(baseline.count).toBeGreaterThan(5);
    expect(Object.keys(baseline.features)).toEqual(expect.arrayContaining(['brightness', 'sharpness', 'score:disc']));
    // The unpublished run is recorded too, with no model version.
    const rec2 = await runs.get(b.version);
    expect(rec2).toMatchObject({ status: 'finished', modelVersion: null, published: null });
    expect((await runs.list()).map((r) => r.id)).toEqual([b.version, a.version]);
  });

  it('--profile-steps writes profile.json with time per phase and the first N steps', async () => {
    const profile = JSON.parse(await readFile(path.join(results[0].runDir, 'profile.json'), 'utf8')) as TrainingProfile;
    for (const phase of ['scan', 'decode', 'step', 'export', 'evaluate', 'baseline']) expect(profile.phases[phase].seconds, phase).toBeGreaterThan(0);
    // Scratch mode has no backbone: nothing is embedded.
    expect(profile.phases.embed).toEqual({ seconds: 0, count: 0 });
    expect(profile.phases.step.seconds).toBeLessThanOrEqual(profile.totalSeconds);
    expect(profile.steps?.profiled).toBe(4);
    expect(profile.steps?.stepsMs).toHaveLength(4);
    // Stored with the run record as well, and an unprofiled run has none.
    expect(existsSync(path.join(registry, 'runs', results[0].version, 'profile.json'))).toBe(true);
    expect(existsSync(path.join(results[1].runDir, 'profile.json'))).toBe(false);
  });

  it('compares runs: differing parameters first, curves in a self-contained page', async () => {
    const runs = new RunStore(new LocalStore(registry));
    const records = [await runs.get(results[0].version), await runs.get(results[1].version)];
    const c = compareRuns(records);
    expect(c.params[0]).toMatchObject({ name: 'learningRate', values: [0.01, 0.003], differs: true });
    expect(c.params.find((p) => p.name === 'seed')?.differs).toBe(false);
    expect(c.metrics.find((m) => m.name === 'accuracy')?.values).toEqual([results[0].metrics.accuracy, results[1].metrics.accuracy]);
    const html = comparisonHtml(records);
    expect(html).not.toMatch(/<script|src=|href=/);
    expect((html.match(/<polyline/g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(html).toContain(results[1].version);
  });

  it('exports MLflow file-store runs whose meta, params and metric lines parse as MLflow writes them', async () => {
    const runs = new RunStore(new LocalStore(registry));
    const dir = path.join(root, 'mlruns');
    const out = await exportMlflow(await runs.list(), dir);
    const exp = parseYaml(await readFile(path.join(dir, '1', 'meta.yaml'), 'utf8')) as Record<string, unknown>;
    expect(exp).toMatchObject({ experiment_id: '1', name: 'skywatch', lifecycle_stage: 'active' });
    expect(out.runs).toHaveLength(2);
    const first = out.runs.find((r) => r.id === results[0].version)!;
    expect(first.mlflowRunId).toMatch(/^[0-9a-f]{32}$/);
    const meta = parseYaml(await readFile(path.join(first.dir, 'meta.yaml'), 'utf8')) as Record<string, unknown>;
    expect(meta).toMatchObject({ run_id: first.mlflowRunId, run_uuid: first.mlflowRunId, experiment_id: '1', status: 3, run_name: results[0].version });
    expect(await readFile(path.join(first.dir, 'params', 'learningRate'), 'utf8')).toBe('0.01');
    const loss = (await readFile(path.join(first.dir, 'metrics', 'loss'), 'utf8')).trim().split('\n').map((l) => l.split(' ').map(Number));
    expect(loss.map((l) => l[2])).toEqual([1, 2, 3]);
    for (const [ts, value] of loss) {
      expect(Number.isInteger(ts)).toBe(true);
      expect(Number.isFinite(value)).toBe(true);
    }
    expect(await readFile(path.join(first.dir, 'tags', 'mlflow.runName'), 'utf8')).toBe(results[0].version);
    expect((await readdir(path.join(first.dir, 'metrics')))).toContain('test_accuracy');
  });

  it('an interrupted run is recorded as failed with the epochs it finished', async () => {
    const controller = new AbortController();
    let steps = 0;
    const progress = { ...silentProgress, step: () => { if (++steps === 3) controller.abort(); } };
    const err = await runTraining(scratch({ signal: controller.signal, progress, epochs: 5 })).catch((e: unknown) => e);
    expect(isSkywatchError(err, 'TRAINING_ABORTED')).toBe(true);
    const all = await new RunStore(new LocalStore(registry)).list();
    const failed = all.find((r) => r.status === 'failed');
    expect(failed?.error?.code).toBe('TRAINING_ABORTED');
    expect(failed?.modelVersion).toBeNull();
  }, 300_000);

  it('the CLI compares runs into an HTML page; a run id that does not exist is NOT_FOUND', async () => {
    const bin = path.resolve('bin/skywatch.mjs');
    const html = path.join(root, 'compare.html');
    const compared = await exec('node', [bin, 'runs', 'compare', results[0].version, results[1].version, '--registry', registry, '--html', html], { env: { ...process.env, SKYWATCH_LOG_LEVEL: 'warn' } });
    expect(compared.stdout).toMatch(/\* learningRate/);
    expect(await readFile(html, 'utf8')).toContain('<svg');
    const missing = await new RunStore(new LocalStore(registry)).get('20990101-000000-beef').catch((e: unknown) => e);
    expect(isSkywatchError(missing, 'NOT_FOUND')).toBe(true);
  }, 120_000);
});
