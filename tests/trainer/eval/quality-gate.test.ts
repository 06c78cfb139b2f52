import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSkywatchError } from '../../../core/errors.js';
import { barsOf } from '../../../cli/commands/eval.js';
import { checkQuality, GATE_FAILED_EXIT, parseLabelBar } from '../../../trainer/eval/quality-gate.js';
import { makeImageDataset } from '../../support/image-dataset.js';
import { tinyManifest, tinyModel } from '../../support/tiny-model.js';

const exec = promisify(execFile);
const metrics = { accuracy: 0.96, macroF1: 0.95, perLabel: { bird: { precision: 0.99, recall: 0.93 }, drone: { precision: 0.93, recall: 0.99 } } };

describe('quality gate', () => {
  it('passes when every bar is met and lists every failing bar otherwise', () => {
    expect(checkQuality(metrics, { minAccuracy: 0.95, minRecall: { drone: 0.98 } }).passed).toBe(true);
    const failed = checkQuality(metrics, { minAccuracy: 0.97, minRecall: { bird: 0.95, drone: 0.9 }, minPrecision: { drone: 0.95 } });
    expect(failed.passed).toBe(false);
    expect(failed.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['accuracy', 'recall[bird]', 'precision[drone]']);
  });

  it('refuses a bar on a label the model does not have, and bars without --check', () => {
    expect(() => checkQuality(metrics, { minRecall: { helicopter: 0.9 } })).toThrow(/no label "helicopter"/);
    expect(() => parseLabelBar('drone=1.5')).toThrow(/LABEL=X/);
    expect(parseLabelBar('bird=0.8', parseLabelBar('drone=0.9'))).toEqual({ drone: 0.9, bird: 0.8 });
    const err = (() => {
      try {
        return barsOf({ minAccuracy: 0.9 });
      } catch (e) {
        return e;
      }
    })();
    expect(isSkywatchError(err, 'BAD_REQUEST')).toBe(true);
    expect(() => barsOf({ check: true })).toThrow(/at least one bar/);
  });
});

describe('skywatch eval --check', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'skywatch-gate-'));
    await makeImageDataset(path.join(root, 'data'), 6, 16);
    // The flipped tiny model answers every image wrong: a model CI must stop.
    const bytes = tinyModel(true);
    await writeFile(path.join(root, 'model.onnx'), bytes);
    await writeFile(path.join(root, 'manifest.json'), JSON.stringify(tinyManifest('flipped', bytes)));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it(`exits ${GATE_FAILED_EXIT} below the bars and says which`, async () => {
    const out = await exec('node', [path.resolve('bin/skywatch.mjs'), 'eval', '--model', path.join(root, 'model.onnx'), '--data', path.join(root, 'data'), '--check', '--min-accuracy', '0.9', '--min-recall', 'drone=0.9', '--json'], { env: { ...process.env, SKYWATCH_LOG_LEVEL: 'warn' } }).then(() => null, (e: { code: number; stdout: string }) => e);
    expect(out?.code).toBe(GATE_FAILED_EXIT);
    const body = JSON.parse(out!.stdout) as { metrics: { accuracy: number }; gate: { passed: boolean; checks: Array<{ name: string; passed: boolean }> } };
    expect(body.metrics.accuracy).toBeLessThan(0.5);
    expect(body.gate.passed).toBe(false);
    expect(body.gate.checks.map((c) => [c.name, c.passed])).toEqual([['accuracy', false], ['recall[drone]', false]]);
  }, 60_000);
});
