import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger.js';
import type { Camera } from '../../ingest/camera.js';
import { cameraHostPolicy } from '../../ingest/camera-hosts.js';
import { CameraSupervisor, type CameraState, type SupervisorOptions } from '../../ingest/camera-supervisor.js';
import { SpawnLimiter } from '../../ingest/spawn-limiter.js';
import { WebRecordings } from '../../ingest/web-recordings.js';
import type { TrackedCamera } from '../../ingest/tracked-camera.js';
import type { FramePipelineFactory } from '../../ingest/frame-sink.js';
import { makeClip } from '../support/clips.js';
import { startHttpVideoServer } from '../../bench/support/http-video-server.js';
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
    pipeline: sink.pipelines({ maxInFlight: extra.maxInFlight ?? 8 }),
    allowFileUrls: false,
    watchdogMs: extra.watchdogMs ?? 8000,
    connectTimeoutMs: extra.connectTimeoutMs,
    backoffMinMs: 200,
    backoffMaxMs: 1000,
    // The test RTSP server is on loopback, which only no-token mode allows.
    hosts: cameraHostPolicy({ allowHosts: [] }, false),
    logger: createLogger({ level: 'debug', destination }),
  });
  cleanups.push(() => supervisor.stop());
  return supervisor;
}

/** A file camera's supervisor, started: a 1 s watchdog and a 20 s connect timeout unless `extra` says otherwise. */
function superviseFile(cam: Camera, pipeline: FramePipelineFactory, extra: Partial<SupervisorOptions> = {}): CameraSupervisor {
  const supervisor = new CameraSupervisor({
    camera: cam,
    pipeline,
    allowFileUrls: true,
    watchdogMs: 1000,
    connectTimeoutMs: 20_000,
    backoffMinMs: 200,
    backoffMaxMs: 1000,
    hosts: cameraHostPolicy({ allowHosts: [] }, false),
    ...extra,
  });
  cleanups.push(() => supervisor.stop());
  supervisor.start();
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
  it('goes live, sends native crops of tracked objects, survives the server dying and coming back, and never shows the password', async () => {
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
    // Native resolution (no resize in ingest): square context boxes of at least 32 px inside the frame.
    for (const c of job.crops) {
      expect(c.rgb.length).toBe(c.width * c.height * 3);
      expect(c.width).toBe(c.box.width);
      expect(c.width).toBeGreaterThanOrEqual(32);
      expect(c.box.x + c.box.width).toBeLessThanOrEqual(320);
      expect(c.trackId).toBeGreaterThan(0);
    }
    expect(job.owner).toBe('memory');
    // Capture times follow the stream's clock: increasing with the frames.
    expect(sink.jobs.map((j) => j.capturedAt)).toEqual([...sink.jobs.map((j) => j.capturedAt)].sort((a, b) => a - b));
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
    // A camera keeping up: its frames reach the pipeline well within a second of their capture.
    expect(status.lagMs).toBeGreaterThanOrEqual(0);
    expect(status.lagMs).toBeLessThan(2_000);

    await supervisor.stop();
    expect(supervisor.status().state).toBe('stopped');
    expect(supervisor.status().lagMs).toBeNull();
    const all = JSON.stringify(status) + logs.join('');
    expect(logs.join('')).toMatch(/backoff|reconnecting/);
    expect(all).not.toContain('s3cr3t-pw');
  }, 150_000);

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

  it('a recording held up by a slow pipeline past the watchdog is not restarted (it would play again from its start)', async () => {
    const clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-starved-')), 'moving.mp4'), { moving: true, seconds: 3 });
    const sink = new MemoryFrameSink();
    sink.answerWith = [0.5, 0.5];
    const real = sink.pipelines();
    let frames = 0;
    // The fourth frame takes 2.5 s, as on a machine starved of CPU: past the 1 s watchdog.
    const supervisor = superviseFile({ ...camera(clip), loop: false }, (id, format, c) => {
      const pipeline = real(id, format, c);
      return {
        process: async (rgb, seq, capturedAt, detail) => {
          if (++frames === 4) await new Promise((r) => setTimeout(r, 2_500));
          return pipeline.process(rgb, seq, capturedAt, detail);
        },
        close: () => pipeline.close(),
        finished: (signal) => pipeline.finished!(signal),
      };
    });
    await waitFor('played to the end', () => supervisor.status().state === 'ended', 40_000);
    expect(supervisor.status().restarts).toBe(0);
    expect(supervisor.status().framesDecoded).toBe(frames);
    expect(frames).toBeGreaterThanOrEqual(14);
  }, 60_000);

  it('a looping file plays each pass from a fresh start: the same frames, the same crops, the camera live throughout', async () => {
    const clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-passes-')), 'moving.mp4'), { moving: true, seconds: 2 });
    const sink = new MemoryFrameSink();
    sink.answerWith = [0.5, 0.5];
    const real = sink.pipelines();
    // Per pass: a digest of each frame, and the crop jobs sent (from this index of sink.jobs on).
    const passes: Array<{ frames: string[]; firstJob: number }> = [];
    let made = 0;
    let recording = false;
    let closed = false;
    const supervisor = superviseFile(camera(clip), (id, format, c) => {
      const pipeline = real(id, format, c);
      made++;
      recording = format.recording === true;
      passes.push({ frames: [], firstJob: sink.jobs.length });
      return {
        process: (rgb, seq, capturedAt, detail) => {
          passes.at(-1)!.frames.push(createHash('sha1').update(rgb).digest('hex'));
          return pipeline.process(rgb, seq, capturedAt, detail);
        },
        restart: () => {
          pipeline.restart!();
          passes.push({ frames: [], firstJob: sink.jobs.length });
        },
        close: async () => {
          closed = true;
          await pipeline.close();
        },
      };
    });
    const seen = new Set<CameraState>();
    await waitFor('a third pass', () => {
      seen.add(supervisor.status().state);
      return passes.length >= 3;
    }, 40_000);
    const crops = (k: number) => sink.jobs.slice(passes[k].firstJob, passes[k + 1].firstJob).map((j) => j.crops.map((c) => JSON.stringify(c.box)).join(' '));
    // ffmpeg's own loop gave the pipeline the last frame followed by the first (a cut no sky camera
    // has); each pass is now what the file is played once: its frames, and motion and the tracker
    // starting over on them (the same crops, in the same places).
    expect(passes[0].frames.length).toBeGreaterThanOrEqual(9);
    expect(passes[1].frames).toEqual(passes[0].frames);
    expect(crops(0).length).toBeGreaterThan(2);
    expect(crops(1)).toEqual(crops(0));
    // One pipeline, restarted: its frame buffers and ring carry over from pass to pass.
    expect(made).toBe(1);
    expect(supervisor.status().passes).toBe(passes.length - 1);
    await supervisor.stop();
    expect(closed).toBe(true);
    expect(supervisor.status().restarts).toBe(0);
    expect([...seen].filter((st) => st !== 'live' && st !== 'connecting')).toEqual([]);
    // A file is a recording, looping or not: judged whole, whatever the load (ingest.loopsAsLive aside).
    expect(recording).toBe(true);
  }, 60_000);

  it('a looping file standing in for a live camera (ingest.loopsAsLive) is one endless stream with the live rules', async () => {
    const clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-endless-')), 'moving.mp4'), { moving: true, seconds: 2 });
    const real = new MemoryFrameSink().pipelines();
    let made = 0;
    let restarted = 0;
    let recording: boolean | undefined;
    const supervisor = superviseFile(camera(clip), (id, format, c) => {
      const pipeline = real(id, format, c);
      made++;
      recording = format.recording;
      return { process: (rgb, seq, at, detail) => pipeline.process(rgb, seq, at, detail), restart: () => void restarted++, close: () => pipeline.close() };
    }, { loopsAsLive: true });
    // Two seconds of clip at 5 fps is 10 frames: 25 is well into its third play.
    await waitFor('a third play', () => supervisor.status().framesDecoded >= 25, 40_000);
    expect(made).toBe(1);
    expect(restarted).toBe(0);
    expect(supervisor.status().passes).toBe(0);
    expect(recording).toBe(false);
  }, 60_000);

  it('a looping file whose pipeline cannot restart gets a new one each pass, without waiting for the last to close', async () => {
    const clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-passes-new-')), 'moving.mp4'), { moving: true, seconds: 2 });
    const real = new MemoryFrameSink().pipelines();
    const closes: boolean[] = [];
    const supervisor = superviseFile(camera(clip), (id, format, c) => {
      const pipeline = real(id, format, c);
      const i = closes.push(false) - 1;
      // Closing alerts wait for their clips (seconds behind many cameras): longer than the 1 s watchdog,
      // which must not take the end of a pass for a stalled stream.
      return { process: (rgb, seq, at, detail) => pipeline.process(rgb, seq, at, detail), close: async () => {
        closes[i] = true;
        await new Promise((r) => setTimeout(r, 1_500));
        await pipeline.close();
      } };
    });
    await waitFor('a third pipeline', () => closes.length >= 3, 40_000);
    expect(closes.slice(0, 2)).toEqual([true, true]);
    expect(supervisor.status().restarts).toBe(0);
    expect(supervisor.status().passes).toBe(closes.length - 1);
  }, 60_000);

  it('cameras waiting for start slots do not time out for it: many added at once all connect', async () => {
    const clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-slots-')), 'moving.mp4'), { moving: true, seconds: 4 });
    // One process start every 2 s for all, ffprobe and ffmpeg each: the third camera's ffmpeg starts
    // about 10 s after it was added, three times its connect timeout.
    const spawns = new SpawnLimiter(0.5);
    const supervisors = [1, 2, 3].map((i) => superviseFile({ ...camera(clip), id: `cam_slot${i}` }, new MemoryFrameSink().pipelines(), { watchdogMs: 1500, connectTimeoutMs: 3000, spawns }));
    await waitFor('all live', () => supervisors.every((s) => s.status().state === 'live'), 40_000);
    for (const s of supervisors) {
      expect(s.status().restarts).toBe(0);
      expect(s.status().lastError).toBeNull();
    }
  }, 60_000);

  it('a recording (a file camera played once) waits while its frames in flight are at the bound, loses none, and ends once judged', async () => {
    const clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-room-')), 'moving.mp4'), { moving: true, seconds: 4 });
    const sink = new MemoryFrameSink();
    sink.hold = true;
    const pipelines = sink.pipelines({ maxInFlight: 2 });
    let cam: TrackedCamera | null = null;
    // Its 1 s watchdog is shorter than the hold below: the wait for room must not count as a stalled ffmpeg.
    const supervisor = superviseFile({ ...camera(clip), loop: false }, (id, format, c) => (cam = pipelines(id, format, c) as TrackedCamera));
    await waitFor('two frames in flight', () => sink.jobs.length >= 2);
    const decoded = supervisor.status().framesDecoded;
    // Held for 2.5 s (12 frame periods): the camera waits with its frame instead of dropping crops.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(sink.jobs).toHaveLength(2);
    expect(supervisor.status().framesDecoded).toBe(decoded);
    expect(supervisor.status().framesDropped).toBe(0);
    sink.hold = false;
    sink.finish('cam_test');
    // Played to its last frame, nothing answered yet: not `ended` until its crops are scored.
    await waitFor('every frame decoded', () => supervisor.status().framesDecoded >= 19, 40_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(supervisor.status().state).toBe('live');
    for (const job of sink.jobs) {
      cam!.onResult({ cameraId: 'cam_test', pipeline: job.pipeline, seq: job.seq, labels: ['bird', 'drone'], modelVersion: 'v1', crops: job.crops.map((c) => ({ trackId: c.trackId, probabilities: [0.1, 0.9] })) });
    }
    await waitFor('ended once judged', () => supervisor.status().state === 'ended', 10_000);
    expect(cam!.drained).toBe(true);
    const st = supervisor.status();
    expect(st.restarts).toBe(0);
    expect(st.framesDropped).toBe(0);
    expect(st.framesDecoded).toBeGreaterThanOrEqual(19);
    expect(st.framesGated + st.framesQueued).toBe(st.framesDecoded);
    expect(sink.jobs.length).toBeGreaterThan(2);
  }, 90_000);
});

describe('CameraSupervisor behind its stream', () => {
  /**
   * A machine too loaded for its cameras, made on purpose: after each frame's motion and tracking (the
   * real pipeline) the main thread stays busy 450 ms, against a 200 ms frame period (5 fps), then waits
   * on I/O as a real hand-over to Redis or the worker does. Until `frames` frames were taken.
   */
  async function play(url: string, options: { file: boolean; maxFrameLagMs: number; frames: number }): Promise<{ lags: number[]; decoded: number; behind: number; lagMs: number | null }> {
    const sink = new MemoryFrameSink();
    const real = sink.pipelines({ maxInFlight: 100 });
    const lags: number[] = [];
    const slow: FramePipelineFactory = (id, format, cam) => {
      const pipeline = real(id, format, cam);
      return {
        process: async (rgb, seq, capturedAt, detail) => {
          lags.push(Date.now() - capturedAt);
          const result = await pipeline.process(rgb, seq, capturedAt, detail);
          const until = Date.now() + 450;
          while (Date.now() < until) {
            // busy, as motion for many cameras keeps it
          }
          await new Promise((r) => setTimeout(r, 5));
          return result;
        },
        close: () => pipeline.close(),
      };
    };
    const supervisor = new CameraSupervisor({
      camera: { ...camera(url), loop: false },
      pipeline: slow,
      allowFileUrls: options.file,
      watchdogMs: 8000,
      maxFrameLagMs: options.maxFrameLagMs,
      backoffMinMs: 200,
      backoffMaxMs: 1000,
      hosts: cameraHostPolicy({ allowHosts: [] }, false),
    });
    cleanups.push(() => supervisor.stop());
    supervisor.start();
    await waitFor('frames taken', () => lags.length >= options.frames || supervisor.status().state === 'ended', 90_000);
    const st = supervisor.status();
    await supervisor.stop();
    return { lags, decoded: st.framesDecoded, behind: st.drops.behind, lagMs: st.lagMs };
  }

  it('a live stream skips frames while newer ones wait, so the frames it takes stay fresh; with the limit off they fall ever later', async () => {
    const rtsp = await server();
    const on = await play(rtsp.url, { file: false, maxFrameLagMs: 1000, frames: 16 });
    expect(on.behind).toBeGreaterThan(5);
    // A frame is taken at most about the limit late, plus a frame or two of work and period (the frame
    // after the limit is crossed is taken when the next is not whole yet).
    expect(Math.max(...on.lags)).toBeLessThan(3_500);
    const off = await play(rtsp.url, { file: false, maxFrameLagMs: 0, frames: 24 });
    expect(off.behind).toBe(0);
    // 24 frames at 455 ms against 200 ms of video each: the last ones come about 6 s late.
    expect(Math.max(...off.lags)).toBeGreaterThan(4_500);
    // The camera's status says so (the supervisor's reading is taken just before the pipeline's).
    expect(off.lagMs).toBeGreaterThan(4_500);
    expect(off.lagMs).toBeLessThanOrEqual(Math.max(...off.lags));
    expect(on.lagMs).toBeLessThan(3_500);
  }, 150_000);

  it('a file camera (a recording) plays every frame, late, whatever the limit', async () => {
    const clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-behind-')), 'moving.mp4'), { moving: true, seconds: 4 });
    const played = await play(clip, { file: true, maxFrameLagMs: 1000, frames: Infinity });
    expect(played.behind).toBe(0);
    expect(played.decoded).toBeGreaterThanOrEqual(19);
    expect(played.lags.length).toBe(played.decoded);
    expect(Math.max(...played.lags)).toBeGreaterThan(3_500);
  }, 90_000);
});

describe('CameraSupervisor over HTTP', () => {
  /** A supervisor of an HTTP camera (file paths refused, loopback allowed) whose pipelines say what they saw. */
  function superviseHttp(cam: Camera, sink: MemoryFrameSink, extra: Partial<SupervisorOptions> = {}) {
    const real = sink.pipelines();
    const seen = { recording: [] as boolean[], passes: [] as Array<{ frames: string[]; at: number[] }>, states: new Set<CameraState>() };
    const supervisor = superviseFile(cam, (id, format, c) => {
      const pipeline = real(id, format, c);
      seen.recording.push(format.recording === true);
      seen.passes.push({ frames: [], at: [] });
      return {
        process: (rgb, seq, capturedAt, detail) => {
          seen.passes.at(-1)!.frames.push(createHash('sha1').update(rgb).digest('hex'));
          seen.passes.at(-1)!.at.push(Date.now());
          seen.states.add(supervisor.status().state);
          return pipeline.process(rgb, seq, capturedAt, detail);
        },
        restart: () => {
          pipeline.restart!();
          seen.passes.push({ frames: [], at: [] });
        },
        close: () => pipeline.close(),
        finished: (signal) => pipeline.finished?.(signal) ?? Promise.resolve(),
      };
    }, { allowFileUrls: false, watchdogMs: 8000, ...extra });
    return { supervisor, seen };
  }

  it('a video file on a web server plays as a file camera: at its own pace, scored whole, each pass afresh; with loop false it ends', async () => {
    const clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-http-')), 'moving.mp4'), { moving: true, seconds: 2 });
    const web = await startHttpVideoServer({ files: { 'moving.mp4': clip } });
    cleanups.push(() => web.close());
    const sink = new MemoryFrameSink();
    sink.answerWith = [0.5, 0.5];
    const { supervisor, seen } = superviseHttp(camera(web.url('moving.mp4')), sink);
    await waitFor('a second pass played', () => seen.passes.length >= 3, 40_000);
    // Read as a live stream, the 2 s file came in a burst (its 10 frames within ~0.1 s), then "stream
    // ended" and a reconnect after backoff; at its own pace its frames span its length.
    const [first] = seen.passes;
    expect(first.frames.length).toBeGreaterThanOrEqual(9);
    expect(first.at.at(-1)! - first.at[0]).toBeGreaterThan(1200);
    expect(seen.passes[1].frames).toEqual(first.frames);
    expect(seen.recording).toEqual([true]);
    const st = supervisor.status();
    expect(st.restarts).toBe(0);
    expect(st.lastError).toBeNull();
    expect(st.passes).toBeGreaterThanOrEqual(2);
    expect([...seen.states]).toEqual(['live']);

    const onceSink = new MemoryFrameSink();
    onceSink.answerWith = [0.5, 0.5];
    const once = superviseHttp({ ...camera(web.url('moving.mp4')), id: 'cam_once', loop: false }, onceSink);
    await waitFor('the file played once has ended', () => once.supervisor.status().state === 'ended', 40_000);
    expect(once.seen.passes).toHaveLength(1);
    expect(once.seen.passes[0].frames).toEqual(first.frames);
    expect(once.supervisor.status().restarts).toBe(0);
  }, 90_000);

  it('a video file on a server without range requests is played from a local copy, fetched once; one too large for a copy is read from the server', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-http-copy-'));
    const clip = makeClip(path.join(dir, 'moving.mp4'), { moving: true, seconds: 2, grain: true });
    // The clip's index follows its data (ffmpeg's default) and it is too large to be buffered whole:
    // read straight from this server, ffmpeg fails ("Stream ends prematurely"), as with python's http.server.
    const plain = await startHttpVideoServer({ files: { 'moving.mp4': clip }, ranges: false });
    cleanups.push(() => plain.close());
    const recordings = new WebRecordings({ maxBytes: 10_000_000, root: dir });
    cleanups.push(() => recordings.close());
    const sink = new MemoryFrameSink();
    sink.answerWith = [0.5, 0.5];
    const { supervisor, seen } = superviseHttp(camera(plain.url('moving.mp4')), sink, { recordings });
    await waitFor('a second pass played', () => seen.passes.length >= 3, 40_000);
    expect(seen.passes[0].frames.length).toBeGreaterThanOrEqual(9);
    expect(seen.passes[1].frames).toEqual(seen.passes[0].frames);
    expect(seen.recording).toEqual([true]);
    expect(supervisor.status()).toMatchObject({ restarts: 0, lastError: null, fetching: null });
    // ffprobe once, the copy once: the passes play from the copy.
    const requests = plain.fileRequests;
    expect(requests).toBeLessThanOrEqual(3);
    await waitFor('another pass', () => seen.passes.length >= 4, 20_000);
    expect(plain.fileRequests).toBe(requests);
    const copies = () => readdirSync(dir).filter((f) => f.startsWith('skywatch-recordings-')).flatMap((d) => readdirSync(path.join(dir, d)));
    expect(copies()).toEqual(['cam_test.video']);
    await supervisor.stop();
    await recordings.forget('cam_test');
    expect(copies()).toEqual([]);

    // Larger than the copy limit: read from the server (this one serves ranges).
    const ranged = await startHttpVideoServer({ files: { 'moving.mp4': clip } });
    cleanups.push(() => ranged.close());
    const small = new WebRecordings({ maxBytes: 1000, root: dir });
    const big = superviseHttp({ ...camera(ranged.url('moving.mp4')), id: 'cam_big' }, sink, { recordings: small });
    await waitFor('a pass played from the server', () => big.seen.passes.length >= 2, 40_000);
    expect(big.supervisor.status()).toMatchObject({ restarts: 0, lastError: null });
    expect(copies()).toEqual([]);
  }, 120_000);

  it('a finished HLS recording (a playlist with a length) plays as a file camera from the server, its playlist not copied', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-http-hls-'));
    const clip = makeClip(path.join(dir, 'moving.mp4'), { moving: true, seconds: 2 });
    const hls = path.join(dir, 'hls');
    mkdirSync(hls);
    execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-i', clip, '-c:v', 'libx264', '-force_key_frames', 'expr:gte(t,n_forced*1)', '-f', 'hls', '-hls_time', '1', '-hls_playlist_type', 'vod', path.join(hls, 'rec.m3u8')]);
    expect(readdirSync(hls).filter((f) => f.endsWith('.ts')).length).toBeGreaterThanOrEqual(2);
    const web = await startHttpVideoServer({ root: hls, ranges: false });
    cleanups.push(() => web.close());
    const recordings = new WebRecordings({ maxBytes: 10_000_000, root: dir });
    cleanups.push(() => recordings.close());
    const { supervisor, seen } = superviseHttp(camera(web.url('rec.m3u8')), new MemoryFrameSink(), { recordings });
    await waitFor('a second pass played', () => seen.passes.length >= 3, 40_000);
    expect(seen.recording).toEqual([true]);
    expect(seen.passes[0].frames.length).toBeGreaterThanOrEqual(9);
    expect(seen.passes[0].at.at(-1)! - seen.passes[0].at[0]).toBeGreaterThan(1200);
    expect(seen.passes[1].frames).toEqual(seen.passes[0].frames);
    expect(supervisor.status()).toMatchObject({ restarts: 0, lastError: null });
    expect(readdirSync(dir).filter((f) => f.startsWith('skywatch-recordings-'))).toEqual([]);
  }, 60_000);

  it('a video file whose copy fails is read from the server instead', async () => {
    const clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-http-nocopy-')), 'moving.mp4'), { moving: true, seconds: 2 });
    const web = await startHttpVideoServer({ files: { 'moving.mp4': clip } });
    cleanups.push(() => web.close());
    // No folder to copy into.
    const recordings = new WebRecordings({ maxBytes: 10_000_000, root: path.join(clip, 'not-a-folder') });
    const { supervisor, seen } = superviseHttp(camera(web.url('moving.mp4')), new MemoryFrameSink(), { recordings });
    await waitFor('a pass played from the server', () => seen.passes.length >= 2, 40_000);
    expect(seen.passes[0].frames.length).toBeGreaterThanOrEqual(9);
    expect(supervisor.status()).toMatchObject({ restarts: 0, lastError: null });
  }, 60_000);

  it('a camera URL that redirects is not followed, by ffmpeg or by the copy (the host checked is the host read)', async () => {
    const clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-http-moved-')), 'moving.mp4'), { moving: true, seconds: 2 });
    const target = await startHttpVideoServer({ files: { 'moving.mp4': clip } });
    cleanups.push(() => target.close());
    const web = await startHttpVideoServer({ redirects: { 'moved.mp4': target.url('moving.mp4') } });
    cleanups.push(() => web.close());
    const recordings = new WebRecordings({ maxBytes: 10_000_000 });
    cleanups.push(() => recordings.close());
    const { supervisor } = superviseHttp(camera(web.url('moved.mp4')), new MemoryFrameSink(), { recordings });
    await waitFor('a failed connection', () => supervisor.status().restarts >= 2, 40_000);
    expect(supervisor.status().framesDecoded).toBe(0);
    expect(target.fileRequests).toBe(0);
  }, 60_000);

  it('a live HTTP stream (MJPEG, no length) keeps the live rules', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-mjpeg-'));
    execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-frames:v', '10', path.join(dir, 'f%02d.jpg')]);
    const frames = readdirSync(dir).sort().map((f) => readFileSync(path.join(dir, f)));
    const web = await startHttpVideoServer({ mjpeg: { frames, fps: 10 } });
    cleanups.push(() => web.close());
    const { supervisor, seen } = superviseHttp(camera(web.url('live.mjpeg')), new MemoryFrameSink());
    await waitFor('frames from the live stream', () => supervisor.status().framesDecoded >= 10, 40_000);
    expect(seen.recording).toEqual([false]);
    expect(supervisor.status()).toMatchObject({ state: 'live', passes: 0, restarts: 0 });
  }, 60_000);
});
