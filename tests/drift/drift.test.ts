import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import type { ModelManifest } from '../../core/model/manifest.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { buildDriftBaseline, type DriftBaseline } from '../../drift/drift-baseline.js';
import { DriftMonitor, type DriftEvent } from '../../drift/drift-monitor.js';
import { driftOfFolder } from '../../drift/offline-drift.js';
import { samplesFromFiles } from '../../drift/samples-from-files.js';
import { listImages } from '../../drift/list-images.js';
import { buildServer } from '../../web/server.js';
import { GATE_FAILED_EXIT } from '../../trainer/eval/quality-gate.js';
import { tinyManifest, tinyModel } from '../support/tiny-model.js';

const VIDEOS = path.resolve('../shared/data/videos');
const CLIPS = ['drone/V_DRONE_002.mp4', 'drone/V_DRONE_004.mp4', 'bird/V_BIRD_002.mp4', 'bird/V_BIRD_004.mp4'];
const haveData = CLIPS.every((c) => existsSync(path.join(VIDEOS, c)));
const exec = promisify(execFile);
const thresholds = { method: 'psi' as const, psiThreshold: 0.25, ksPValue: 0.001, minDriftedFeatures: 1, includeScores: false, minEffect: 0.2 };

let root: string;
let modelPath: string;
let manifest: ModelManifest;
let baseline: DriftBaseline;
const dirs = { baseline: '', same: '', dark: '', blur: '' };

/** Real sky footage: frames of the shared clips at 4 fps; even frames are the baseline, odd ones the "live" window. */
beforeAll(async () => {
  if (!haveData) return;
  root = await mkdtemp(path.join(os.tmpdir(), 'skywatch-drift-'));
  for (const k of Object.keys(dirs) as Array<keyof typeof dirs>) {
    dirs[k] = path.join(root, k);
    await mkdir(dirs[k], { recursive: true });
  }
  const frames = path.join(root, 'frames');
  await mkdir(frames);
  CLIPS.forEach((clip, c) => execFileSync('ffmpeg', ['-loglevel', 'error', '-i', path.join(VIDEOS, clip), '-vf', 'fps=4,scale=320:256', '-q:v', '3', path.join(frames, `c${c}-%03d.jpg`)]));
  const all = (await readdir(frames)).sort();
  for (const [i, name] of all.entries()) {
    const src = path.join(frames, name);
    if (i % 2 === 0) {
      await sharp(src).toFile(path.join(dirs.baseline, name));
      continue;
    }
    await sharp(src).toFile(path.join(dirs.same, name));
    // Night: the same frames at a third of the light. Fog/defocus: a Gaussian blur.
    await sharp(src).linear(0.3, 0).jpeg({ quality: 90 }).toFile(path.join(dirs.dark, name));
    await sharp(src).blur(3).jpeg({ quality: 90 }).toFile(path.join(dirs.blur, name));
  }
  const bytes = tinyModel(false, 96);
  modelPath = path.join(root, 'model.onnx');
  await writeFile(modelPath, bytes);
  manifest = tinyManifest('drift-v1', bytes, 0.9, 96);
  await writeFile(path.join(root, 'manifest.json'), JSON.stringify(manifest));
  const { samples } = await samplesFromFiles(modelPath, manifest, await listImages(dirs.baseline));
  baseline = buildDriftBaseline(samples, { model: manifest.version, source: 'even frames', labels: manifest.labels });
  await writeFile(path.join(root, 'drift-baseline.json'), JSON.stringify(baseline));
}, 180_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe.skipIf(!haveData)('drift on real sky footage', () => {
  it('the baseline holds input statistics and the score distribution per label', () => {
    expect(baseline.count).toBeGreaterThan(30);
    for (const f of ['brightness', 'contrast', 'sharpness', 'saturation', 'objectSize', 'confidence', 'score:bird', 'score:drone']) expect(Object.keys(baseline.features)).toContain(f);
    expect(baseline.features.brightness.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('no shift: other frames of the same clips do not drift', async () => {
    const out = await driftOfFolder({ dir: dirs.same, modelPath, manifest, baseline, thresholds, cacheDir: path.join(root, 'cache') });
    expect(out.result.drifted).toBe(false);
    for (const f of out.result.features.filter((x) => !x.name.startsWith('score') && x.name !== 'confidence')) expect(f.psiExcess, f.name).toBeLessThan(0.25);
  }, 60_000);

  it('night-darkened frames drift in brightness and contrast; blurred frames drift most in sharpness', async () => {
    const dark = await driftOfFolder({ dir: dirs.dark, modelPath, manifest, baseline, thresholds, cacheDir: path.join(root, 'cache') });
    expect(dark.result.drifted).toBe(true);
    expect(dark.result.driftedFeatures).toEqual(expect.arrayContaining(['brightness', 'contrast']));
    const blur = await driftOfFolder({ dir: dirs.blur, modelPath, manifest, baseline, thresholds: { ...thresholds, method: 'both' }, cacheDir: path.join(root, 'cache') });
    expect(blur.result.driftedFeatures).toContain('sharpness');
    const sharp = blur.result.features.find((f) => f.name === 'sharpness')!;
    // Blur changes sharpness far more than anything else (it also brightens dark specks on the sky a little).
    for (const f of blur.result.features.filter((x) => x.name !== 'sharpness')) expect(f.effect, f.name).toBeLessThan(sharp.effect);
    expect(sharp.currentMean).toBeLessThan(sharp.baselineMean);
    expect(sharp.pValue).toBeLessThan(0.001);
  }, 60_000);

  it('live: per-camera windows, one drift event for the drifting camera, GET /v1/drift, the HTML report and the gauges', async () => {
    const monitor = new DriftMonitor({ ...thresholds, window: 60, minSamples: 40, everySamples: 10, eventCooldownMs: 60_000 });
    monitor.setBaseline(baseline);
    const events: DriftEvent[] = [];
    monitor.onDrift((e) => void events.push(e));
    // Ten-second clips pan and change within seconds: a window of their first seconds is a real shift
    // from the whole clips. A stream with no shift is a seeded shuffle of the held-out frames.
    let seed = 7;
    const byTime = (files: string[]): string[] => {
      seed = 7;
      return files.map((f) => ({ f, k: (seed = (seed * 1103515245 + 12345) % 2147483648) })).sort((a, b) => a.k - b.k).map((x) => x.f);
    };
    const same = (await samplesFromFiles(modelPath, manifest, byTime(await listImages(dirs.same)))).samples;
    const dark = (await samplesFromFiles(modelPath, manifest, byTime(await listImages(dirs.dark)))).samples;
    for (let i = 0; i < Math.min(same.length, dark.length); i++) {
      monitor.observe('roof', same[i]);
      monitor.observe('mast', dark[i]);
    }
    expect(events.map((e) => e.cameraId)).toEqual(['mast']);
    expect(events[0]).toMatchObject({ type: 'drift', drifted: expect.arrayContaining(['brightness']) });
    expect(events[0].features.brightness).toBeGreaterThan(0.25);

    const dir = path.join(root, 'server');
    const registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
    const server = await buildServer({ config: loadConfig({ env: { SKYWATCH_STATE_DIR: path.join(dir, 'state') } }), logger: silentLogger, registry, drift: monitor });
    try {
      const url = await server.listen(0);
      const body = await (await fetch(`${url}/v1/drift`)).json() as { model: string; enabled: boolean; cameras: Array<{ cameraId: string; drifted: boolean; driftedFeatures: string[] }> };
      expect(body).toMatchObject({ model: 'drift-v1', enabled: true });
      expect(Object.fromEntries(body.cameras.map((c) => [c.cameraId, c.drifted]))).toEqual({ roof: false, mast: true });
      const html = await (await fetch(`${url}/v1/drift/report?camera=mast`)).text();
      expect(html).toContain('Drift detected');
      expect((html.match(/<svg/g) ?? []).length).toBeGreaterThan(5);
      expect(html).not.toContain('camera roof');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^skywatch_camera_drifted\{camera="mast"\} 1$/m);
      expect(metrics).toMatch(/^skywatch_camera_drifted\{camera="roof"\} 0$/m);
      expect(metrics).toMatch(/^skywatch_drift_psi\{camera="mast",feature="brightness"\} \d/m);
    } finally {
      await server.close();
    }
  }, 120_000);

  it(`skywatch drift --data DIR --check exits ${GATE_FAILED_EXIT} on the darkened frames`, async () => {
    const out = await exec('node', [path.resolve('bin/skywatch.mjs'), 'drift', '--data', dirs.dark, '--model', modelPath, '--check', '--report', path.join(root, 'drift.html'), '--json'], { env: { ...process.env, SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_STATE_DIR: path.join(root, 'state') } }).then(() => null, (e: { code: number; stdout: string }) => e);
    expect(out?.code).toBe(GATE_FAILED_EXIT);
    const body = JSON.parse(out!.stdout) as { result: { drifted: boolean; driftedFeatures: string[] } };
    expect(body.result.driftedFeatures).toContain('brightness');
    expect(existsSync(path.join(root, 'drift.html'))).toBe(true);
  }, 60_000);
});
