import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { decodeFrames } from '../../ingest/frame-decoder.js';
import { predictClipUpload, type ClipAnswer } from '../../inference/clip-upload.js';
import { evaluateClips } from '../../trainer/eval/clip-eval.js';
import { buildServer, type SkywatchServer } from '../../web/server.js';
import { writeNpz } from '../support/npz.js';
import { publishTiny } from '../support/tiny-model.js';

const DRONE = path.resolve('../shared/data/videos/drone/V_DRONE_002.mp4');
const BIRD = path.resolve('../shared/data/videos/bird/V_BIRD_002.mp4');
const haveData = existsSync(DRONE) && existsSync(BIRD);
const exec = promisify(execFile);

let root: string;
let server: SkywatchServer;
let url: string;
let registryDir: string;

beforeAll(async () => {
  if (!haveData) return;
  root = await mkdtemp(path.join(os.tmpdir(), 'skywatch-clip-'));
  registryDir = path.join(root, 'registry');
  const registry = new ModelRegistry(new LocalStore(registryDir));
  await publishTiny(registry, path.join(root, 'models'), 'clip-v1');
  server = await buildServer({ config: loadConfig({ env: { SKYWATCH_STATE_DIR: path.join(root, 'state'), SKYWATCH_CLIP_MAX_SECONDS: '12' } }), logger: silentLogger, registry });
  url = await server.listen(0);
  await server.holder.reload(true);
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

const post = (body: Uint8Array, type: string, query = '') => fetch(`${url}/v1/predict/clip${query}`, { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(body) });

describe.skipIf(!haveData)('POST /v1/predict/clip on real sky footage', () => {
  let video: ClipAnswer;

  it('an MP4 goes through motion, tracks and verdicts: tracks with boxes, times and verdicts, and whether it holds a drone', async () => {
    const res = await post(new Uint8Array(await (await import('node:fs/promises')).readFile(DRONE)), 'video/mp4', '?fps=5');
    expect(res.status).toBe(200);
    video = (await res.json()) as ClipAnswer;
    expect(video).toMatchObject({ kind: 'video', modelVersion: 'clip-v1', fps: 5, width: 640, height: 512 });
    expect(video.durationMs).toBeGreaterThan(8_000);
    expect(video.frames).toBeGreaterThan(40);
    expect(video.tracks.length).toBeGreaterThan(0);
    for (const t of video.tracks) {
      expect(t.lastMs).toBeGreaterThanOrEqual(t.firstMs);
      expect(t.points.length).toBeGreaterThan(0);
      for (const p of t.points) {
        expect(p.box.x + p.box.width).toBeLessThanOrEqual(640);
        expect(p.at).toBeLessThanOrEqual(video.durationMs + 1000);
      }
    }
    expect(video.drone).toBe(video.tracks.some((t) => t.alerted && t.verdict?.label === 'drone'));
    if (video.drone) expect(video.firstAlertMs).not.toBeNull();
  }, 120_000);

  it('the same frames as an .npz (the seed format) give the same answer', async () => {
    const frames: Buffer[] = [];
    let w = 0;
    let h = 0;
    for await (const f of decodeFrames(DRONE, { fps: 5 })) {
      frames.push(f.data);
      w = f.width;
      h = f.height;
    }
    const npz = writeNpz({ frames: { shape: [frames.length, h, w, 3], data: Buffer.concat(frames) } });
    const res = await post(new Uint8Array(npz), 'application/x-npz', '?fps=5');
    expect(res.status).toBe(200);
    const answer = (await res.json()) as ClipAnswer;
    expect(answer.kind).toBe('npz');
    expect(answer.drone).toBe(video.drone);
    expect(answer.tracks.map((t) => [t.id, t.firstMs, t.lastMs, t.points.length])).toEqual(video.tracks.map((t) => [t.id, t.firstMs, t.lastMs, t.points.length]));
  }, 120_000);

  it('the same MP4 sent as a form upload (curl -F file=@clip.mp4, as /v1/predict takes images) gives the same answer; two files or another field are refused', async () => {
    const bytes = await (await import('node:fs/promises')).readFile(DRONE);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }), 'clip.mp4');
    const res = await fetch(`${url}/v1/predict/clip?fps=5`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as ClipAnswer;
    expect(answer.kind).toBe('video');
    expect(answer.drone).toBe(video.drone);
    expect(answer.tracks.map((t) => [t.id, t.firstMs, t.lastMs, t.points.length])).toEqual(video.tracks.map((t) => [t.id, t.firstMs, t.lastMs, t.points.length]));
    const two = new FormData();
    two.append('file', new Blob([new Uint8Array(bytes)]), 'a.mp4');
    two.append('file', new Blob([new Uint8Array(bytes)]), 'b.mp4');
    const twice = await fetch(`${url}/v1/predict/clip`, { method: 'POST', body: two });
    expect(twice.status).toBe(413);
    expect(((await twice.json()) as { error: { message: string } }).error.message).toBe('one clip per request');
    const field = new FormData();
    field.append('note', 'hello');
    const noted = await fetch(`${url}/v1/predict/clip`, { method: 'POST', body: field });
    expect(noted.status).toBe(400);
    expect(((await noted.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
  }, 120_000);

  it('refuses, with stable codes: a clip over the length limit, a body that is no video, an .npz without frames, another media type', async () => {
    const long = writeNpz({ frames: { shape: [70, 16, 16, 3], data: new Uint8Array(70 * 16 * 16 * 3) } });
    const tooLong = await post(new Uint8Array(long), 'application/x-npz', '?fps=5');
    expect(tooLong.status).toBe(413);
    expect(((await tooLong.json()) as { error: { code: string } }).error.code).toBe('CLIP_TOO_LONG');
    const junk = await post(new Uint8Array(Buffer.from('ftypisom this is not really a video at all'.padEnd(200, 'x'))), 'video/mp4');
    expect(junk.status).toBe(400);
    expect(((await junk.json()) as { error: { code: string } }).error.code).toBe('CLIP_INVALID');
    const noFrames = await post(new Uint8Array(writeNpz({ images: { shape: [2, 8, 8, 3], data: new Uint8Array(384) } })), 'application/x-npz');
    expect(noFrames.status).toBe(400);
    expect(((await noFrames.json()) as { error: { message: string } }).error.message).toMatch(/no "frames" array \(it has: images\)/);
    const other = await fetch(`${url}/v1/predict/clip`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(other.status).toBe(415);
  }, 60_000);

  it('eval --clips: per label, clips with a drone verdict and time to detection, and the gate metrics', async () => {
    const dir = path.join(root, 'clips');
    await mkdir(path.join(dir, 'drone'), { recursive: true });
    await mkdir(path.join(dir, 'bird'), { recursive: true });
    await symlink(DRONE, path.join(dir, 'drone', 'a.mp4'));
    await symlink(BIRD, path.join(dir, 'bird', 'b.mp4'));
    const limits = { maxBytes: 1e9, maxSeconds: 60, maxFrames: 10_000, maxPixels: 1e8 };
    const { readFile } = await import('node:fs/promises');
    const predictor = await localPredictor();
    const e = await evaluateClips([{ file: path.join(dir, 'drone', 'a.mp4'), label: 'drone' }, { file: path.join(dir, 'bird', 'b.mp4'), label: 'bird' }], async (f) => ({ ...(await predictClipUpload(await readFile(f), { holder: server.holder, predictor }, limits, { fps: 5 })), events: [] }));
    expect(e.rows.map((r) => [r.label, r.clips])).toEqual([['bird', 1], ['drone', 1]]);
    const drone = e.rows.find((r) => r.label === 'drone')!;
    expect(drone.withDrone).toBe(Number(e.clips.find((c) => c.label === 'drone')!.drone));
    if (drone.withDrone) expect(drone.medianTimeToDetectionMs).toBeGreaterThanOrEqual(0);
    expect(e.accuracy).toBe(e.clips.filter((c) => c.drone === (c.label === 'drone')).length / 2);
    expect(e.perLabel.drone.recall).toBe(drone.share);
  }, 180_000);

  it('skywatch predict clip.npz runs locally on the registry\'s latest model', async () => {
    const npz = writeNpz({ frames: { shape: [6, 64, 80, 3], data: new Uint8Array(6 * 64 * 80 * 3).fill(120) } });
    const file = path.join(root, 'still.npz');
    await writeFile(file, npz);
    const out = await exec('node', [path.resolve('bin/skywatch.mjs'), 'predict', file, '--registry', registryDir, '--json'], { env: { ...process.env, SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_STATE_DIR: path.join(root, 'cli-state') } });
    const body = JSON.parse(out.stdout) as { clips: Array<{ kind: string; drone: boolean; tracks: unknown[]; modelVersion: string }> };
    // A still sky: no motion, no tracks, no drone.
    expect(body.clips[0]).toMatchObject({ kind: 'npz', drone: false, tracks: [], modelVersion: 'clip-v1' });
  }, 60_000);
});

async function localPredictor() {
  const { Predictor } = await import('../../inference/predictor.js');
  const { MicroBatcher } = await import('../../inference/micro-batcher.js');
  return new Predictor(server.holder, new MicroBatcher({ maxBatch: 8, maxWaitMs: 2 }), { maxPixels: 1e8 });
}
