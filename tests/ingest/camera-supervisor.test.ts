import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import type { Camera } from '../../ingest/camera.js';
import { cameraHostPolicy } from '../../ingest/camera-hosts.js';
import { CameraSupervisor, type CameraState } from '../../ingest/camera-supervisor.js';
import { startRtspServer, type RtspServer } from '../support/rtsp-server.js';
import { waitFor } from './helpers.js';
import { MemoryFrameSink } from './memory-frame-sink.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function camera(url: string): Camera {
  return { id: 'cam_test', name: 'test', url, fps: 5, enabled: true, motion: { minArea: 16 }, createdAt: 1, updatedAt: 1 };
}

function supervise(url: string, sink: MemoryFrameSink, extra: { maxInFlight?: number; watchdogMs?: number; connectTimeoutMs?: number; logTo?: string[] } = {}): CameraSupervisor {
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      extra.logTo?.push(chunk.toString());
      done();
    },
  });
  const supervisor = new CameraSupervisor({
    camera: camera(url),
    sink,
    allowFileUrls: false,
    watchdogMs: extra.watchdogMs ?? 8000,
    connectTimeoutMs: extra.connectTimeoutMs,
    backoffMinMs: 200,
    backoffMaxMs: 1000,
    maxInFlight: extra.maxInFlight ?? 8,
    // The test RTSP server is on loopback, which only no-token mode allows.
    hosts: cameraHostPolicy({ allowHosts: [] }, false),
    logger: createLogger({ level: 'debug', destination }),
  });
  cleanups.push(() => supervisor.stop());
  return supervisor;
}

async function server(port?: number): Promise<RtspServer> {
  const s = await startRtspServer({ port });
  cleanups.push(() => s.kill());
  return s;
}

/** Polls status, remembering every state seen, until `state` is reached. */
async function reach(supervisor: CameraSupervisor, state: CameraState, seen: Set<CameraState>, ms = 40_000): Promise<void> {
  await waitFor(`state ${state}`, () => {
    seen.add(supervisor.status().state);
    return supervisor.status().state === state;
  }, ms);
}

describe('CameraSupervisor over RTSP', () => {
  it('goes live, sends motion crops, survives the server dying and coming back, and never shows the password', async () => {
    const rtsp = await server();
    const sink = new MemoryFrameSink();
    const logs: string[] = [];
    const url = rtsp.url.replace('rtsp://', 'rtsp://viewer:s3cr3t-pw@');
    const supervisor = supervise(url, sink, { logTo: logs });
    supervisor.start();
    const seen = new Set<CameraState>();
    await reach(supervisor, 'live', seen);
    await waitFor('motion jobs', () => sink.jobs.length >= 3);
    const job = sink.jobs[0];
    expect(job.cameraId).toBe('cam_test');
    expect([job.width, job.height]).toEqual([320, 240]);
    expect(job.crops.length).toBeGreaterThan(0);
    expect(job.crops[0].rgb.length).toBe(64 * 64 * 3);
    expect(job.frameJpeg?.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(sink.jobs.map((j) => j.seq)).toEqual([...sink.jobs.map((j) => j.seq)].sort((a, b) => a - b));
    const snapshot = await supervisor.snapshot();
    expect(snapshot?.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

    await rtsp.kill();
    seen.clear();
    await reach(supervisor, 'backoff', seen);
    expect(supervisor.status().lastError).toBeTruthy();
    const again = await server(rtsp.port);
    expect(again.port).toBe(rtsp.port);
    const before = sink.jobs.length;
    await reach(supervisor, 'live', seen);
    await waitFor('jobs after reconnect', () => sink.jobs.length > before);
    const status = supervisor.status();
    expect(status.restarts).toBeGreaterThanOrEqual(1);
    expect(status.framesDecoded).toBe(status.framesGated + status.framesQueued + status.framesDropped);
    expect(status.fps).toBeGreaterThan(0);

    await supervisor.stop();
    expect(supervisor.status().state).toBe('stopped');
    const all = JSON.stringify(status) + logs.join('');
    expect(logs.join('')).toMatch(/backoff|reconnecting/);
    expect(all).not.toContain('s3cr3t-pw');
  });

  it('restarts a camera that stays connected but stops sending (watchdog)', async () => {
    const rtsp = await server();
    const sink = new MemoryFrameSink();
    const supervisor = supervise(rtsp.url, sink, { watchdogMs: 2500, connectTimeoutMs: 20_000 });
    supervisor.start();
    const seen = new Set<CameraState>();
    await reach(supervisor, 'live', seen);
    rtsp.pause();
    await waitFor('watchdog', () => /watchdog/.test(supervisor.status().lastError ?? ''), 20_000);
    expect(['connecting', 'backoff']).toContain(supervisor.status().state);
    rtsp.resume();
    await reach(supervisor, 'live', seen);
  });

  it('drops and counts frames while the camera has too many in flight', async () => {
    const rtsp = await server();
    const sink = new MemoryFrameSink();
    sink.hold = true;
    const supervisor = supervise(rtsp.url, sink, { maxInFlight: 2 });
    supervisor.start();
    await waitFor('in-flight drops', () => supervisor.status().drops.in_flight >= 2);
    expect(sink.jobs).toHaveLength(2);
    expect(supervisor.status().framesQueued).toBe(2);
    sink.finish('cam_test');
    await waitFor('queued again', () => supervisor.status().framesQueued > 2);
  });
});
