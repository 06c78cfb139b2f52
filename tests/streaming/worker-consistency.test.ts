import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRoles, type RunningRoles } from '../../app/run-roles.js';
import { loadConfig } from '../../core/config.js';
import { freePort } from '../../core/free-port.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { createCamera } from '../../ingest/camera.js';
import type { Alert } from '../../queue/alert-stream.js';
import { createRedis } from '../../queue/redis-connection.js';
import { waitFor } from '../ingest/helpers.js';
import { publishTiny } from '../support/tiny-model.js';

/**
 * The consistency rule of the tracked pipeline: a camera's tracks, verdicts and alerts live in the
 * ingestor that owns it, and workers only score crops, so the same real clip gives the same alerts
 * whether one worker process or three serve it (three answer out of order; the judge applies scores
 * in each track's order), or the ingesting process scores its own frames as `skywatch start` does
 * (in process first, the queue past its limit). The runs go at once, each on its own Redis prefix.
 */
const CLIP = path.resolve('../shared/data/videos/drone/V_DRONE_002.mp4');
const BIN = path.resolve('bin/skywatch.mjs');
const stamp = `${process.pid}-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
const children: ChildProcess[] = [];
const running: RunningRoles[] = [];
let attempt = 0;

afterAll(async () => {
  for (const r of running) await r.stop();
  for (const c of children) c.kill('SIGKILL');
  const keys = await redis.keys(`test-consistency-*${stamp}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

function workerProcess(registry: string, prefix: string, state: string, port: number): void {
  const child = spawn('node', [BIN, 'worker', '--registry', registry, '--port', String(port)], {
    env: { ...process.env, SKYWATCH_STATE_DIR: state, SKYWATCH_REDIS_PREFIX: prefix, SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_INTRA_OP_THREADS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
}

/** Per track: its events as (status, label, crops judged, score to 4 places, ms of stream it spans), in order. */
function byTrack(alerts: Alert[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const a of alerts) {
    const track = a.trackId!.split('-')[1];
    (out[track] ??= []).push(`${a.status} ${a.label} ${a.frames} ${a.score.toFixed(4)} ${a.lastAt - a.firstAt}ms`);
  }
  return out;
}

describe.skipIf(!existsSync(CLIP))('one worker process or three (real clip; skipped without ../shared/data)', () => {
  // One retry: once in the whole suite under load (2026-12-03 14:18, passing alone twice after), one run's
  // track judged one crop fewer between two updates (frames 4 -> 7 against 4 -> 8). One way timing
  // reached the judge was found and removed since (the stream clock moved capture times when frames
  // came early after a late first one: tests/ingest/late-start.test.ts); that it was this failure's
  // cause is not proven, so the retry stays, and a second failure is a defect of the rule, not noise.
  it('gives the same tracks, labels and alerts', { timeout: 420_000, retry: 1 }, async () => {
    // A retry starts clean: the first attempt's processes stopped, and prefixes of its own.
    for (const r of running.splice(0)) await r.stop();
    for (const c of children.splice(0)) c.kill('SIGKILL');
    attempt++;
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-consistency-'));
    const registry = path.join(dir, 'registry');
    await publishTiny(new ModelRegistry(new LocalStore(registry)), path.join(dir, 'm'), 'v1');
    const runs = [{ name: 'one', workers: 1 }, { name: 'three', workers: 3 }, { name: 'in-process', workers: 0 }].map((r) => ({ ...r, prefix: `test-consistency-${r.name}-${stamp}-${attempt}` }));
    const ports: number[] = [];
    for (const run of runs) {
      for (let i = 0; i < run.workers; i++) {
        const port = await freePort();
        ports.push(port);
        workerProcess(registry, run.prefix, path.join(dir, `${run.name}-w${i}`), port);
      }
    }
    // Every worker has loaded the model before any frame exists (four processes starting at once take
    // a while on two loaded cores).
    await waitFor('workers ready', async () => (await Promise.all(ports.map((p) => fetch(`http://127.0.0.1:${p}/ready`).then((r) => r.ok, () => false)))).every(Boolean), 240_000);

    const owners = await Promise.all(runs.map(async (run) => {
      const config = loadConfig({
        env: {},
        overrides: {
          stateDir: path.join(dir, `${run.name}-ingest`),
          registry,
          redis: { prefix: run.prefix },
          api: { port: 0 },
          // Otherwise the defaults: a clip played once is a recording, which waits for room rather than
          // drop or thin crops however far three pipelines on two cores fall behind (docs/PIPELINE.md).
          ingest: { allowFileUrls: true },
          alerts: { threshold: 0.5, minCrops: 2, clipSeconds: 0 },
        },
      });
      const r = await runRoles({ config, logger: silentLogger, registry: new ModelRegistry(new LocalStore(registry)), roles: { api: false, ingest: true, worker: run.workers === 0 } });
      running.push(r);
      return { run, r };
    }));
    const cameras = await Promise.all(owners.map(async ({ r }) => {
      const camera = createCamera({ name: 'drone clip', url: CLIP, fps: 5, loop: false }, { allowFileUrls: true, defaultFps: 5 });
      await r.ingest!.store.create(camera);
      await r.ingest!.ingestor.refresh();
      return camera.id;
    }));
    // Played to the end, every crop answered and every track judged.
    for (const [i, { r }] of owners.entries()) {
      await waitFor('clip played', async () => r.ingest!.ingestor.overview().cameras.find((c) => c.id === cameras[i])?.state === 'ended', 90_000);
      await waitFor('every answer in', () => r.ingest!.owner!.size === 0, 60_000);
    }
    const results = await Promise.all(owners.map(async ({ r }, i) => {
      const decoded = r.ingest!.ingestor.overview().cameras.find((c) => c.id === cameras[i])!;
      return { decoded, alerts: (await r.context.stream.after('0-0', 5000)).filter((a) => a.cameraId === cameras[i]) };
    }));
    const [one, three, inProcess] = results;
    // Nothing was dropped on the way: the comparison is of the same frames.
    for (const run of results) {
      expect(run.decoded.framesDropped).toBe(0);
      expect(run.decoded.framesDecoded).toBe(one.decoded.framesDecoded);
    }
    expect(one.alerts.length).toBeGreaterThan(0);
    expect(byTrack(three.alerts)).toEqual(byTrack(one.alerts));
    // The start-like process scored frames itself, and its alerts are those of the queue's workers.
    expect(owners[2].r.worker!.counters.inProcess).toBeGreaterThan(0);
    expect(byTrack(inProcess.alerts)).toEqual(byTrack(one.alerts));
    // Every alert opened was closed.
    for (const events of Object.values(byTrack(one.alerts))) expect(events.at(-1)).toMatch(/^closed /);
  });
});
