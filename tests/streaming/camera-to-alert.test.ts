import { existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runRoles, type RunningRoles } from '../../app/run-roles.js';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { createRedis } from '../../queue/redis-connection.js';
import { buildTracksFromVideos } from '../../trainer/data/tracks-from-videos.js';
import { trainTrackModel } from '../../trainer/track/train-track-model.js';
import { startRtspServer, type RtspServer } from '../support/rtsp-server.js';

/**
 * The whole flow with real parts: a model trained here on crops of some sky clips, then cameras
 * showing OTHER clips (a drone over GStreamer's RTSP server, a bird as a looping file) through ffmpeg, motion gating, the BullMQ queue, the worker
 * and the alert rules, with alerts read on the WebSocket.
 */
const VIDEOS = path.resolve('../shared/data/videos');
const BACKBONE = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');
const TEST_DRONE = 'V_DRONE_002.mp4';
const TEST_BIRD = 'V_BIRD_004.mp4';
const available = existsSync(VIDEOS) && existsSync(BACKBONE);

describe.skipIf(!available)('camera -> queue -> worker -> alert (real clips; skipped without ../shared/data)', () => {
  const prefix = `test-e2e-${process.pid}-${Date.now()}`;
  let running: RunningRoles;
  let rtsp: RtspServer;
  let url: string;

  beforeAll(async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sw-e2e-'));
    const clips = path.join(root, 'clips');
    // Training clips: every fourth drone and bird clip, never the two the cameras will show.
    for (const label of ['drone', 'bird']) {
      mkdirSync(path.join(clips, label), { recursive: true });
      const { readdirSync } = await import('node:fs');
      readdirSync(path.join(VIDEOS, label)).sort().filter((f, i) => i % 3 === 1 && f !== TEST_DRONE && f !== TEST_BIRD).slice(0, 10)
        .forEach((f) => symlinkSync(path.join(VIDEOS, label, f), path.join(clips, label, f)));
    }
    // The product's path: tracks of the training clips, then a crop model + track model (smaller runs).
    await buildTracksFromVideos(clips, path.join(root, 'tracks'), { maxFrames: 30 });
    const registry = path.join(root, 'registry');
    const trained = await trainTrackModel({
      tracks: path.join(root, 'tracks'), registry, stateDir: path.join(root, 'state'), backbone: BACKBONE, publish: true, seed: 2, logger: silentLogger, refit: false,
      settings: { folds: 2, maxCropsPerTrack: 12, crop: { epochs: 10, learningRate: 1e-3, batchSize: 64 }, track: { epochs: 30, learningRate: 3e-3, batchSize: 64 } },
    });
    expect(trained.decision?.promoted).toBe(true);
    const config = loadConfig({
      env: {},
      overrides: {
        stateDir: path.join(root, 'state'),
        registry,
        redis: { prefix },
        api: { port: 0 },
        ingest: { allowFileUrls: true },
      },
    });
    running = await runRoles({ config, logger: silentLogger, registry: new ModelRegistry(new LocalStore(registry)), roles: { api: true, ingest: true, worker: true } });
    const address = running.server!.app.server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}`;
  }, 480_000);

  afterAll(async () => {
    await running?.stop();
    await rtsp?.stop();
    const redis = createRedis('redis://127.0.0.1:6379');
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('a drone clip served over RTSP raises a drone alert on the WebSocket; a bird clip does not', async () => {
    rtsp = await startRtspServer({ file: path.join(VIDEOS, 'drone', TEST_DRONE) });
    const alerts: Array<{ cameraId: string; label: string; status: string; snapshotUrl: string | null; trackId?: string | number }> = [];
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/alerts/ws?since=0-0`);
    ws.on('message', (m) => {
      const msg = JSON.parse(String(m));
      if (msg.type === 'alert') alerts.push(msg.alert);
    });
    const add = async (name: string, file: string) => {
      const res = await fetch(`${url}/v1/cameras`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, url: file, fps: 5 }) });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const drone = await add('drone clip over RTSP', rtsp.url);
    const bird = await add('bird clip', path.join(VIDEOS, 'bird', TEST_BIRD));
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline && !alerts.some((a) => a.cameraId === drone && a.label === 'drone')) await new Promise((r) => setTimeout(r, 250));
    // Let the bird camera run as long again as the drone needed, at least 15 s.
    await new Promise((r) => setTimeout(r, 15_000));
    ws.close();
    const droneAlert = alerts.find((a) => a.cameraId === drone && a.label === 'drone');
    expect(droneAlert, JSON.stringify(alerts.map((a) => [a.cameraId === drone ? 'droneCam' : 'birdCam', a.label, a.status]))).toBeTruthy();
    expect(droneAlert!.snapshotUrl).toMatch(/snapshot\.jpg$/);
    const snap = await fetch(`${url}/${droneAlert!.snapshotUrl}`);
    expect(snap.headers.get('content-type')).toBe('image/jpeg');
    expect(alerts.filter((a) => a.cameraId === bird && a.label === 'drone')).toEqual([]);
    // Prometheus sees the pipeline per camera: frames decoded, gated out, queued, dropped by reason.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(Number(new RegExp(`skywatch_camera_frames\\{camera="${drone}",stage="decoded",reason=""\\} (\\d+)`).exec(metrics)?.[1])).toBeGreaterThan(10);
    expect(metrics).toMatch(/skywatch_worker_frames\{what="inferred",reason=""\} [1-9]/);
    // Alert events and evidence clips: what was written, and whether the clip encoder kept up.
    const metric = (name: string, label: string, value: string) => Number(new RegExp(`${name}\\{${label}="${value}"\\} (\\d+)`).exec(metrics)?.[1]);
    // (at least those the WebSocket saw: another may open between its close and this scrape)
    expect(metric('skywatch_alert_events', 'event', 'opened')).toBeGreaterThanOrEqual(Math.max(1, alerts.filter((a) => a.status === 'open').length));
    expect(metric('skywatch_evidence_clips', 'state', 'dropped')).toBe(0);
    expect(metric('skywatch_evidence_clips', 'state', 'waiting')).toBeGreaterThanOrEqual(0);
    // The served track model carries its drift baseline, and `start` serves the drift of the crops it
    // scores: each camera is compared or pending until it has drift.minSamples crops.
    const drift = (await (await fetch(`${url}/v1/drift`)).json()) as { enabled: boolean; model: string; cameras: Array<{ cameraId: string }>; pending: Array<{ cameraId: string }> };
    expect(drift.enabled).toBe(true);
    expect([...drift.cameras, ...drift.pending].map((c) => c.cameraId)).toContain(drone);
    // One drone passing is one alert per track with updates, not one per frame. The RTSP server loops
    // the 10 s clip, so each pass in the ~25 s watched may bring its own track.
    const opened = alerts.filter((a) => a.cameraId === drone && a.label === 'drone' && a.status === 'open');
    expect(opened.length).toBeGreaterThanOrEqual(1);
    expect(opened.length).toBeLessThanOrEqual(6);
    expect(new Set(opened.map((a) => a.trackId)).size).toBe(opened.length);
    expect(alerts.filter((a) => a.cameraId === drone && a.label === 'drone' && a.status === 'update').length).toBeGreaterThan(0);
  }, 120_000);
});
