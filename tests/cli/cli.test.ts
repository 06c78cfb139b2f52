import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeImageDataset } from '../support/image-dataset.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/skywatch.mjs');

async function skywatch(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('node', [BIN, ...args], { env: { ...process.env, SKYWATCH_LOG_LEVEL: 'warn', ...env }, maxBuffer: 32 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

let root: string;
let data: string;
let registry: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'sw-cli-'));
  data = path.join(root, 'data');
  registry = path.join(root, 'registry');
  await makeImageDataset(data, 16, 40);
});

describe('skywatch command line', () => {
  it('has --help on every subcommand', async () => {
    const top = await skywatch(['--help']);
    for (const sub of ['data', 'train', 'eval', 'model']) expect(top.stdout).toContain(sub);
    expect((await skywatch(['data', 'split', '--help'])).stdout).toMatch(/--seed/);
    expect((await skywatch(['train', '--help'])).stdout).toMatch(/--backbone/);
  });

  it('splits and describes a data set, as JSON', async () => {
    const split = await skywatch(['data', 'split', data, '--seed', '3', '--json']);
    expect(split.code).toBe(0);
    expect(JSON.parse(split.stdout).counts).toEqual({ train: 22, val: 6, test: 4 });
    expect((await skywatch(['data', 'split', data])).stderr).toMatch(/already exists/);
    const stats = JSON.parse((await skywatch(['data', 'stats', data, '--json'])).stdout);
    expect(stats.counts).toEqual({ bird: 16, drone: 16 });
    expect(stats.splitCounts.test).toEqual({ bird: 2, drone: 2 });
  });

  it('trains, publishes, lists, evaluates and rolls back through the registry', async () => {
    const state = path.join(root, 'state');
    const env = { SKYWATCH_STATE_DIR: state };
    const trained = await skywatch(['train', '--data', data, '--registry', registry, '--mode', 'scratch', '--image-size', '32', '--epochs', '2', '--publish', '--json'], env);
    expect(trained.code, trained.stderr).toBe(0);
    const first = JSON.parse(trained.stdout);
    expect(first.decision.promoted).toBe(true);
    expect(existsSync(path.join(first.runDir, 'report.html'))).toBe(true);
    const list = JSON.parse((await skywatch(['model', 'list', '--registry', registry, '--json'])).stdout);
    expect(list.models.map((m: { version: string }) => m.version)).toEqual([first.version]);
    const evaluated = await skywatch(['eval', '--model', 'latest', '--data', data, '--registry', registry, '--json', '--report', path.join(root, 'eval.html')], env);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const result = JSON.parse(evaluated.stdout);
    expect(result.metrics.count).toBe(32);
    expect(readFileSync(path.join(root, 'eval.html'), 'utf8')).toContain('<svg');
    const local = await skywatch(['eval', '--model', path.join(first.runDir, 'model.onnx'), '--data', data, '--split', 'test', '--json'], env);
    expect(JSON.parse(local.stdout).metrics.count).toBe(4);
    const second = JSON.parse((await skywatch(['train', '--data', data, '--registry', registry, '--mode', 'scratch', '--image-size', '32', '--epochs', '1', '--publish', '--force', '--json'], env)).stdout);
    expect(second.decision.promoted).toBe(true);
    const back = JSON.parse((await skywatch(['model', 'rollback', '--registry', registry, '--json'])).stdout);
    expect(back.version).toBe(first.version);
    const shown = JSON.parse((await skywatch(['model', 'show', 'latest', '--registry', registry, '--json'])).stdout);
    expect(shown.manifest.version).toBe(first.version);
  }, 180_000);

  it('fails with a stable code and a clear message', async () => {
    const missing = await skywatch(['model', 'show', 'nope', '--registry', registry]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/MODEL_NOT_FOUND/);
    const bad = await skywatch(['model', 'list'], { SKYWATCH_API_PORT: 'x' });
    expect(bad.stderr).toMatch(/CONFIG_INVALID[\s\S]*api\.port/);
  });
});

describe('skywatch predict', () => {
  it('classifies images with a local model and reports unreadable ones', async () => {
    const { tinyModel, tinyManifest } = await import('../support/tiny-model.js');
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const dir = path.join(root, 'local-model');
    mkdirSync(dir, { recursive: true });
    const bytes = tinyModel();
    writeFileSync(path.join(dir, 'model.onnx'), bytes);
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(tinyManifest('local-1', bytes)));
    writeFileSync(path.join(dir, 'junk.jpg'), 'junk');
    const out = await skywatch(['predict', path.join(data, 'drone', 'drone-0.jpg'), path.join(dir, 'junk.jpg'), '--model', path.join(dir, 'model.onnx'), '--json']);
    expect(out.code).toBe(1);
    const { predictions } = JSON.parse(out.stdout);
    expect(predictions[0]).toMatchObject({ label: 'drone', modelVersion: 'local-1' });
    expect(predictions[1].error.code).toBe('IMAGE_INVALID');
  });
});
