/**
 * Detection quality with clips played as cameras through the whole service (npm run bench:quality:live).
 *
 * The same 5-fold cross-validation by clip as `npm run bench:quality` (same track set, same fold
 * assignment: trainer/track/track-set.ts clipFolds with the same seed, same embeddings cache): for each
 * fold, the model `skywatch train --kind track` and `npm start`'s default model train (crop model +
 * track model, with the photographs' training split) is trained on the other folds and published into
 * a local folder registry. The service then starts through its composition root (api + ingest + worker
 * in one process, as `skywatch start`, with default settings but for what a bench must set), and each
 * held-out clip of the fold is added over REST as a play-once file camera (`loop: false`, the default
 * 5 fps), at most BENCH_CONCURRENCY at once, played at camera speed until the camera reports `ended`.
 * Its drone alerts are then read over REST. Every clip is judged by a model that never saw it.
 *
 * Reported per label, as bench:quality: clips, share with a drone alert, drone alerts per alerted clip,
 * median capture time from the clip's first frame to its first drone alert, missed drone clips and
 * false-alarm clips by name; beside it the offline replay of the same clips by the same fold models
 * (trainTrackModel's own test-split judgement) and the clips on which the two disagree; frames dropped
 * (ingest and worker) and the load average.
 *
 * BENCH_PASSES=N adds each clip as a user adds a file camera (no `loop` field: it plays again and again)
 * and watches N passes: each pass should alert as the clip played once does (a clip counts as alerted
 * when any pass did; the report also names clips where a pass judged otherwise than the offline replay).
 *
 * BENCH_SOURCE=http serves the clips from a web server that ignores range requests (as python's
 * http.server) and adds them by their http:// URL, with file paths refused (ingest.allowFileUrls off):
 * a video file on a web server should be judged as the same file added by its path.
 *
 * BENCH_FOLDS (5), BENCH_FOLD_LIMIT (all folds; k: the first k only), BENCH_FOLD_FROM (1), BENCH_SEED (1), BENCH_CONCURRENCY
 * (4), BENCH_INGEST (ingest settings over the defaults, JSON), BENCH_PHOTOS (photographs for the crop model; empty: none), BENCH_TRACKS (default
 * .cache/bench-tracks, built from ../shared/data/videos when absent, as bench:quality builds it).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runRoles } from '../app/run-roles.js';
import { loadConfig } from '../core/config.js';
import { silentLogger } from '../core/logger.js';
import { ModelRegistry } from '../core/model/registry.js';
import { LocalStore } from '../core/storage/local-store.js';
import type { Alert } from '../queue/alert-stream.js';
import { createRedis } from '../queue/redis-connection.js';
import { buildTracksFromVideos } from '../trainer/data/tracks-from-videos.js';
import type { ClipOutcome } from '../trainer/track/evaluate-clips.js';
import { summarise } from '../trainer/track/evaluate-clips.js';
import { trainTrackModel } from '../trainer/track/train-track-model.js';
import { clipFolds, readTrackSet, type ClipRecord } from '../trainer/track/track-set.js';
import { detectionTable } from './support/detection-table.js';
import { startHttpVideoServer } from './support/http-video-server.js';
import { SQUEEZENET } from './support/realistic-model.js';
import { skywatchEnv } from './support/skywatch-env.js';

const VIDEOS = path.resolve('../shared/data/videos');
const FOLDS = Number(process.env.BENCH_FOLDS ?? 5);
const FOLD_LIMIT = Number(process.env.BENCH_FOLD_LIMIT ?? FOLDS);
/** The first fold to run, from 1 (a long run split over sessions: BENCH_FOLD_FROM=3 runs folds 3 to BENCH_FOLD_LIMIT). */
const FOLD_FROM = Number(process.env.BENCH_FOLD_FROM ?? 1);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
/** 0: play-once cameras; N: looping cameras (the default of a file camera) watched for N passes. */
const PASSES = Number(process.env.BENCH_PASSES ?? 0);
/** `file`: cameras by file path; `http`: the same files from a local web server without range requests. */
const SOURCE = process.env.BENCH_SOURCE === 'http' ? 'http' : 'file';
/** Ingest settings over the defaults, as JSON (e.g. '{"maxFrameLagMs":0}'): compare a setting under the same load. */
const INGEST = JSON.parse(process.env.BENCH_INGEST ?? '{}') as Record<string, unknown>;
const PHOTOS = path.resolve(process.env.BENCH_PHOTOS ?? '../shared/data/images/train');
const tracksDir = path.resolve(process.env.BENCH_TRACKS ?? '.cache/bench-tracks');
/** A clip is about 10 s: a camera not ended after this long is reported and removed. */
const CLIP_LIMIT_MS = 120_000;
const RESULTS = `bench/results/streaming-quality-${Date.now()}.json`;
if (!existsSync(VIDEOS)) {
  console.log(`no clips at ${VIDEOS}: nothing to measure`);
  process.exit(0);
}
const started = Date.now();
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
if (!existsSync(path.join(tracksDir, 'drone'))) {
  console.log(`following the objects of ${VIDEOS} into ${tracksDir} ...`);
  await buildTracksFromVideos(VIDEOS, tracksDir);
}
const clips = await readTrackSet(tracksDir);
const folds = clipFolds(clips, FOLDS, SEED);
const root = await mkdtemp(path.join(os.tmpdir(), 'sw-quality-live-'));
console.log(`${clips.length} clips, ${FOLDS} folds (seed ${SEED}), running folds ${FOLD_FROM} to ${Math.min(FOLD_LIMIT, FOLDS)}; ${CONCURRENCY} cameras at once; ${os.cpus().length} cores; load average ${load()}`);

interface CameraView { id: string; status: { state: string; since: number; framesDecoded: number; framesDropped: number; lastError: string | null; passes?: number } | null }
interface LiveClip { outcome: ClipOutcome; framesDecoded: number; framesDropped: number; endState: string; wallMs: number; passesAlerted?: number }

/**
 * A request to the service, retried a few times: on a loaded machine a kept-alive connection is now and
 * then reset between polls (ECONNRESET), which says nothing about the clip.
 */
async function request(url: string, init?: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (attempt >= 5) throw err;
      await sleep(500 * attempt);
    }
  }
}

/** Plays one clip as a play-once camera and turns its drone alerts into the outcome the offline judge reports. */
async function playClip(url: string, clip: ClipRecord, videos: (relative: string) => string): Promise<LiveClip> {
  const t0 = Date.now();
  const body = { name: clip.id, url: videos(`${clip.label}/${clip.clip}`), ...(PASSES ? {} : { loop: false }) };
  const res = await request(`${url}/v1/cameras`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201 && res.status !== 200) throw new Error(`POST /v1/cameras for ${clip.id}: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  // The capture time of the first frame: the camera turns live on it (its stream clock is anchored there).
  let firstFrameAt: number | null = null;
  let view: CameraView | undefined;
  // With PASSES: when the camera was seen starting each pass after the first (polled every 100 ms).
  const passStarts: number[] = [];
  for (;;) {
    view = ((await (await request(`${url}/v1/cameras/${id}`)).json()) as CameraView);
    const state = view.status?.state;
    if (firstFrameAt === null && state === 'live') firstFrameAt = view.status!.since;
    while (passStarts.length < (view.status?.passes ?? 0)) passStarts.push(Date.now());
    if (PASSES && passStarts.length >= PASSES) break;
    if (state === 'ended' || state === 'failed' || Date.now() - t0 > CLIP_LIMIT_MS * Math.max(1, PASSES)) break;
    await sleep(PASSES ? 100 : 250);
  }
  // The last pass's last crops are still being answered: a few seconds for its alerts to be written.
  if (PASSES && passStarts.length >= PASSES) await sleep(4_000);
  const alertsUrl = `${url}/v1/alerts?camera=${id}&label=drone&since=0-0&limit=1000`;
  // `ended`: the recording is judged, its last alert events written (a sleep here once stood in for that).
  const events = ((await (await request(alertsUrl)).json()) as { alerts: Alert[] }).alerts;
  await request(`${url}/v1/cameras/${id}`, { method: 'DELETE' });
  // The pass an alert belongs to, by its track's first point: an alerting track spans 3 frames or more,
  // so a pass's alerting tracks start 400 ms or more before the next pass begins, and that pass's own
  // tracks after it (its start is seen within 100 ms of a poll).
  const passOf = (a: Alert) => passStarts.filter((start) => a.firstAt >= start - 250).length;
  const watched = (a: Alert) => !PASSES || passOf(a) < PASSES;
  const opens = events.filter((a) => a.status === 'open' && watched(a)).sort((a, b) => a.lastAt - b.lastAt);
  const first = opens[0];
  const outcome: ClipOutcome = {
    clip: clip.id,
    label: clip.label,
    alerted: opens.length > 0,
    firstAlertMs: first && firstFrameAt !== null ? first.lastAt - firstFrameAt : null,
    fromTrackStartMs: first ? first.lastAt - first.firstAt : null,
    alerts: opens.length,
    tracks: new Set(events.map((a) => a.trackId)).size,
    primaryVerdict: null,
    // Where extra alerts come from needs the judge's tracks (bench:quality); the service's events do not carry them.
    extraAlerts: [],
  };
  return { outcome, framesDecoded: view.status?.framesDecoded ?? 0, framesDropped: view.status?.framesDropped ?? 0, endState: view.status?.state ?? 'unknown', wallMs: Date.now() - t0, ...(PASSES ? { passesAlerted: new Set(opens.map(passOf)).size } : {}) };
}

/** Clips the live service and the offline replay judged differently (alert or not). */
function disagreements(): string[] {
  const offlineByName = new Map(offline.map((o) => [o.clip, o]));
  // With PASSES, every pass must judge as the offline replay: alerted in all of them, or in none.
  const expected = (o: ClipOutcome) => (offlineByName.get(o.clip)?.alerted ? Math.max(1, PASSES) : 0);
  return live
    .filter((c) => (PASSES ? c.passesAlerted !== expected(c.outcome) : c.outcome.alerted !== offlineByName.get(c.outcome.clip)?.alerted))
    .map((c) => `${c.outcome.clip} (live ${PASSES ? `${c.passesAlerted} of ${PASSES} passes alerted` : c.outcome.alerted ? 'alert' : 'none'})`);
}

/** Written after every fold, so a run cut short still leaves what it measured. */
async function writeResults(): Promise<void> {
  const liveOutcomes = live.map((c) => c.outcome);
  const decoded = live.reduce((a, c) => a + c.framesDecoded, 0);
  const dropped = live.reduce((a, c) => a + c.framesDropped, 0);
  await mkdir('bench/results', { recursive: true });
  await writeFile(RESULTS, JSON.stringify({
    command: 'npm run bench:quality:live',
    settings: { folds: FOLDS, passes: PASSES, source: SOURCE, foldFrom: FOLD_FROM, foldLimit: Math.min(FOLD_LIMIT, FOLDS), seed: SEED, concurrency: CONCURRENCY, ingest: INGEST, photos: process.env.BENCH_PHOTOS !== '' && existsSync(PHOTOS) ? PHOTOS : null },
    live: { summary: summarise(liveOutcomes), outcomes: liveOutcomes },
    offline: { summary: summarise(offline), outcomes: offline },
    disagree: disagreements(),
    frames: { decoded, droppedIngest: dropped, workerJobs, workerDropped },
    folds: foldReports,
    machine: { cpus: os.cpus().length, load: os.loadavg() },
    finished: new Date().toISOString(),
  }, null, 1));
}

const live: LiveClip[] = [];
const offline: ClipOutcome[] = [];
const foldReports: unknown[] = [];
/** Crop jobs the worker answered, and those it dropped by reason (`deadline`: waited in the queue longer than ingest.frameDeadlineMs). */
const workerJobs = { inferred: 0 };
const workerDropped: Record<string, number> = {};
const web = SOURCE === 'http' ? await startHttpVideoServer({ root: VIDEOS, ranges: false }) : null;
const videos = (relative: string) => (web ? web.url(relative) : path.join(VIDEOS, relative));
for (let f = FOLD_FROM - 1; f < Math.min(FOLD_LIMIT, FOLDS); f++) {
  const registryDir = path.join(root, `registry-${f}`);
  const trainStarted = Date.now();
  // What `skywatch train --kind track` and npm start's default model run, with this fold as the test split.
  const trained = await trainTrackModel({
    tracks: tracksDir,
    photos: process.env.BENCH_PHOTOS !== '' && existsSync(PHOTOS) ? PHOTOS : undefined,
    registry: registryDir,
    stateDir: path.join(root, `state-${f}`),
    cacheDir: path.resolve('.cache/bench-embeddings'),
    backbone: SQUEEZENET,
    seed: SEED,
    testFolds: FOLDS,
    testFold: f,
    // The published model must not have seen the clips it is about to play: no refit on every clip.
    refit: false,
    publish: true,
    // A throwaway registry per fold: no run record.
    tracking: false,
    logger: silentLogger,
  });
  const trainSeconds = (Date.now() - trainStarted) / 1000;
  offline.push(...trained.outcomes);
  const held = clips.filter((_c, i) => folds[i] === f);
  console.log(`fold ${f + 1}/${FOLDS}: model ${trained.version} trained in ${(trainSeconds / 60).toFixed(1)} min; playing its ${held.length} held-out clips (load average ${load()})`);

  const prefix = `live-quality-${f}-${Date.now()}`;
  const config = loadConfig({ env: skywatchEnv(), overrides: { stateDir: path.join(root, `state-${f}`), registry: registryDir, redis: { prefix }, api: { port: 0 }, ingest: { ...(SOURCE === 'http' ? { allowFileUrls: false } : {}), demoCamera: false, ...INGEST } } });
  const running = await runRoles({ config, logger: silentLogger, registry: new ModelRegistry(new LocalStore(registryDir)), roles: { api: true, ingest: true, worker: true }, demoCamera: false });
  const playStarted = Date.now();
  const loadBefore = os.loadavg()[0];
  let foldLive: LiveClip[] = [];
  let foldWorker: { inferred: number; dropped: Record<string, number> } = { inferred: 0, dropped: {} };
  try {
    for (let i = 0; i < 600 && !running.server!.holder.current; i++) await sleep(100);
    const url = `http://127.0.0.1:${(running.server!.app.server.address() as { port: number }).port}`;
    const queue = [...held];
    foldLive = (await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      const mine: LiveClip[] = [];
      for (let clip = queue.shift(); clip; clip = queue.shift()) mine.push(await playClip(url, clip, videos));
      return mine;
    }))).flat();
    foldWorker = { inferred: running.worker!.counters.inferred, dropped: { ...running.worker!.counters.dropped } };
    workerJobs.inferred += running.worker!.counters.inferred;
    for (const [reason, n] of Object.entries(running.worker!.counters.dropped)) workerDropped[reason] = (workerDropped[reason] ?? 0) + n;
  } finally {
    await running.stop();
    const redis = createRedis(running.redisUrl);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
  live.push(...foldLive);
  const byName = new Map(trained.outcomes.map((o) => [o.clip, o]));
  foldReports.push({ fold: f, version: trained.version, trainSeconds, playSeconds: (Date.now() - playStarted) / 1000, loadBefore, loadAfter: os.loadavg()[0], worker: foldWorker, clips: foldLive.map((c) => ({ ...c, offline: byName.get(c.outcome.clip) })) });
  await writeResults();
  console.log(`  played in ${((Date.now() - playStarted) / 60000).toFixed(1)} min: ${foldLive.filter((c) => c.outcome.label === 'drone' && c.outcome.alerted).length}/${foldLive.filter((c) => c.outcome.label === 'drone').length} drone clips alerted live (offline ${trained.outcomes.filter((o) => o.label === 'drone' && o.alerted).length}); load average ${load()}`);
}

const liveOutcomes = live.map((c) => c.outcome);
console.log('\nplayed as cameras (live service):');
for (const line of detectionTable(liveOutcomes)) console.log(line);
console.log('\nthe same clips replayed offline by the same fold models (trainTrackModel test split):');
for (const line of detectionTable(offline)) console.log(line);
console.log(`\nclips live and offline disagree on: ${disagreements().join(', ') || 'none'}`);
const decoded = live.reduce((a, c) => a + c.framesDecoded, 0);
const dropped = live.reduce((a, c) => a + c.framesDropped, 0);
const notEnded = live.filter((c) => c.endState !== (PASSES ? 'live' : 'ended')).map((c) => `${c.outcome.clip} (${c.endState})`);
console.log(`frames decoded ${decoded}, dropped by ingest ${dropped}, crop jobs the worker inferred ${workerJobs.inferred}, dropped ${JSON.stringify(workerDropped)}; cameras that did not end: ${notEnded.join(', ') || 'none'}`);
console.log(`folds ${FOLD_FROM} to ${Math.min(FOLD_LIMIT, FOLDS)} of ${FOLDS}, seed ${SEED}, ${CONCURRENCY} cameras at once: total ${((Date.now() - started) / 60000).toFixed(1)} min; load average ${load()}; ${os.cpus().length} cores; ${new Date().toISOString()}`);
await writeResults();
await web?.close();
process.exit(0);
