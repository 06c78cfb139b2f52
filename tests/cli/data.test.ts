import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeClip } from '../support/clips.js';
import { makeImageDataset } from '../support/image-dataset.js';
import { tinyManifest, tinyModel } from '../support/tiny-model.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/skywatch.mjs');

async function skywatch(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('node', [BIN, ...args], { env: { ...process.env, SKYWATCH_LOG_LEVEL: 'warn' }, maxBuffer: 32 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

let root: string;
let data: string;
let modelFile: string;

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'sw-cli-data-'));
  data = path.join(root, 'data');
  await makeImageDataset(data, 10, 24);
  copyFileSync(path.join(data, 'drone', 'drone-0.jpg'), path.join(data, 'drone', 'drone-again.jpg'));
  writeFileSync(path.join(data, 'bird', 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0x00, 9, 9]));
  writeFileSync(path.join(data, 'bird', 'notes.txt'), 'not an image');
  const bytes = tinyModel();
  mkdirSync(path.join(root, 'model'));
  modelFile = path.join(root, 'model', 'model.onnx');
  writeFileSync(modelFile, bytes);
  writeFileSync(path.join(root, 'model', 'manifest.json'), JSON.stringify(tinyManifest('tiny-1', bytes, 0.9, 16)));
});

describe('skywatch data and eval as child processes', () => {
  it('describes a data set in text: counts, sizes, duplicates, skipped files and the fingerprint', async () => {
    const text = await skywatch(['data', 'stats', data]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/21 images, labels bird, drone/);
    expect(text.stdout).toMatch(/most common 24x24/);
    expect(text.stdout).toContain('drone/drone-0.jpg = drone/drone-again.jpg');
    expect(text.stdout).toMatch(/skipped bird\/broken\.jpg: unreadable/);
    expect(text.stdout).toMatch(/skipped bird\/notes\.txt: not an image/);
    const json = JSON.parse((await skywatch(['data', 'stats', data, '--json'])).stdout);
    expect(text.stdout).toContain(`fingerprint: ${json.fingerprint}`);
    expect(json.counts).toEqual({ bird: 10, drone: 11 });
  });

  it('refuses split ratios that do not add up', async () => {
    const bad = await skywatch(['data', 'split', data, '--ratios', '0.5,0.6,0.1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/sum to 1/);
  });

  it('evaluates a model file on every image of a folder and prints the table and confusion matrix', async () => {
    const out = await skywatch(['eval', '--model', modelFile, '--data', data, '--report', path.join(root, 'report.html')]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/model tiny-1 .*accuracy 100\.00%.* 21 images/);
    expect(out.stdout).toMatch(/^bird\s+100\.00%\s+100\.00%\s+100\.00%\s+1\.0000\s+10$/m);
    expect(out.stdout).toMatch(/confusion \(rows true, columns predicted\)/);
    expect(out.stdout).toMatch(/^drone\s+0\s+11$/m);
    expect(out.stderr).toMatch(/skipped bird\/broken\.jpg/);
    expect(readFileSync(path.join(root, 'report.html'), 'utf8')).toMatch(/<svg[^>]*aria-label="Confusion matrix"/);
  });

  it('makes seeded splits on the fly for --split test and says so', async () => {
    const out = await skywatch(['eval', '--model', modelFile, '--data', data, '--split', 'test', '--seed', '5', '--json']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/no splits files: made seeded splits/);
    const result = JSON.parse(out.stdout);
    expect(result.split).toBe('test');
    expect(result.metrics.count).toBeGreaterThanOrEqual(2);
    expect(result.metrics.count).toBeLessThan(10);
    expect(result.skipped.map((s: { path: string }) => s.path).sort()).toEqual(['bird/broken.jpg', 'bird/notes.txt']);
  });

  it('fails clearly on labels the model lacks and on a model without a manifest', async () => {
    const other = path.join(root, 'other');
    await makeImageDataset(other, 2, 16);
    mkdirSync(path.join(other, 'helicopter'));
    copyFileSync(path.join(other, 'bird', 'bird-0.jpg'), path.join(other, 'helicopter', 'h.jpg'));
    const unknown = await skywatch(['eval', '--model', modelFile, '--data', other]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/DATA_INVALID.*helicopter/);
    const bare = path.join(root, 'bare.onnx');
    copyFileSync(modelFile, path.join(root, 'bare.onnx'));
    const noManifest = await skywatch(['eval', '--model', bare, '--data', data]);
    expect(noManifest.code).not.toBe(0);
    expect(noManifest.stderr).toMatch(/MODEL_INVALID.*no manifest\.json/);
  });

  it('builds a track data set from labelled clips: points and native crops per track, one folder per clip', async () => {
    const clips = path.join(root, 'clips');
    makeClip(path.join(clips, 'drone', 'a.mp4'), { moving: true, seconds: 2 });
    makeClip(path.join(clips, 'drone', 'b.mp4'), { moving: true, seconds: 2 });
    makeClip(path.join(clips, 'bird', 'still.mp4'), { moving: false, seconds: 2 });
    const out = path.join(root, 'tracks');
    const made = await skywatch(['data', 'from-videos', clips, out, '--fps', '5', '--min-area', '20', '--json']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toMatch(/\[3\/3\] /);
    const result = JSON.parse(made.stdout);
    expect(result).toMatchObject({ clips: 3, skipped: [] });
    // The moving square is followed in both drone clips; the still clip has no track.
    expect(result.perLabel.drone).toMatchObject({ clips: 2, clipsWithoutTracks: 0 });
    expect(result.perLabel.drone.tracks).toBeGreaterThanOrEqual(2);
    expect(result.perLabel.bird).toMatchObject({ clips: 1, tracks: 0, clipsWithoutTracks: 1 });
    // One folder per clip: tracks.json with every point's native crop beside it.
    const track = JSON.parse(readFileSync(path.join(out, 'drone', 'a', 'tracks.json'), 'utf8')) as { fps: number; tracks: Array<{ points: Array<{ seq: number; crop: string }> }> };
    expect(track.fps).toBe(5);
    const longest = track.tracks.sort((x, y) => y.points.length - x.points.length)[0];
    expect(longest.points.length).toBeGreaterThanOrEqual(4);
    for (const p of longest.points) expect(existsSync(path.join(out, 'drone', 'a', p.crop))).toBe(true);
  });
});
