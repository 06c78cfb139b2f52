import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { createCamera } from '../ingest/camera.js';
import { createIngest, type IngestParts } from '../ingest/create-ingest.js';
import { ClipEncoder } from '../ingest/clip-encoder.js';
import { TrackAlertPublisher } from '../ingest/track-alerts.js';
import { TrackOwner } from '../ingest/track-owner.js';
import { CropResults } from '../queue/crop-results.js';
import { FrameQueue } from '../queue/frame-queue.js';
import { InProcessFirstSink } from '../queue/in-process-first-sink.js';
import { QueuePeers } from '../queue/queue-peers.js';
import { OpenAlerts } from '../queue/open-alerts.js';
import { createSinks } from '../sinks/create-sinks.js';
import type { SinkList } from '../sinks/sink-list.js';
import { MeanVerdict } from '../tracking/mean-verdict.js';
import type { VerdictModel } from '../tracking/verdict-model.js';
import type { FrameWorker } from '../inference/frame-worker.js';
import type { ModelHolder } from '../inference/model-holder.js';
import type { FrameSink } from '../ingest/frame-sink.js';
import type { ProcessContext } from './process-context.js';

export interface IngestRole extends IngestParts {
  queue: FrameQueue;
  /** The tracks, verdicts and alerts of the cameras this process holds; null in an API-only process. */
  owner: TrackOwner | null;
  publisher: TrackAlertPublisher | null;
  /** Alert sinks (webhook, MQTT) of a process that ingests: alert events and cameras going down or up. */
  sinks: SinkList | null;
  /** Starts pulling cameras (leases, ffmpeg); adds the demo camera first when asked and none exists. */
  start(options?: { demoCamera?: boolean }): Promise<void>;
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((l, i) => l === b[i]);

/**
 * The verdict model for crop probabilities over `labels` (the labels the workers' model answered
 * with): the loaded model's own (its track model, or the mean for a photo model) when its crop labels
 * are those, otherwise the mean crop probability, so answers of a model being swapped are still judged.
 */
function verdicts(holder: ModelHolder): (labels: readonly string[]) => VerdictModel {
  let fallback: MeanVerdict | null = null;
  return (labels) => {
    const current = holder.current?.verdict;
    if (current && same(current.cropLabels, labels)) return current;
    if (!fallback || !same(fallback.cropLabels, labels)) fallback = new MeanVerdict([...labels]);
    return fallback;
  };
}

/**
 * The ingest role: the camera store, the status board, and the ingestor (cameras leased in Redis ->
 * ffmpeg -> motion -> the camera's tracker -> native crops -> frame queue, or this process's own
 * worker first when it has one), with the TrackOwner that
 * owns each held camera's tracks and judge, reads the workers' scores back and publishes alerts (the
 * alert stream, then the sinks). An API-only process builds it for the store and board and never
 * starts it.
 */
export function buildIngest(ctx: ProcessContext, options: { ingesting: boolean; worker?: FrameWorker | null }): IngestRole {
  const { config, logger } = ctx;
  const queue = new FrameQueue({ redis: ctx.redis, prefix: ctx.prefix, pixelTtlMs: Math.max(10_000, 3 * config.ingest.frameDeadlineMs) });
  ctx.onStop('frame queue', () => queue.close());
  // A process that scores too (start) scores its own cameras' frames in process, and spills to the queue.
  let sink: FrameSink = queue;
  if (options.worker && config.inference.inProcessFrames > 0) {
    // Spilling only pays when another process's worker can take the frames.
    const peers = new QueuePeers({ queue, selfName: options.worker.name, logger });
    if (options.ingesting) {
      peers.start();
      ctx.onStop('queue peers', async () => peers.stop());
    }
    sink = new InProcessFirstSink({ queue, scorer: options.worker, deliver: (result) => owner?.deliver(result), maxInProcess: config.inference.inProcessFrames, peers, logger });
  }
  let owner: TrackOwner | null = null;
  let publisher: TrackAlertPublisher | null = null;
  let sinks: SinkList | null = null;
  if (options.ingesting) {
    const list = createSinks(config, logger);
    sinks = list;
    const clips = new ClipEncoder({ logger });
    // Stopped last: the alerts that close while ingest stops still get their clips.
    ctx.onStop('evidence clips', () => clips.close());
    publisher = new TrackAlertPublisher({
      stream: ctx.stream,
      openAlerts: new OpenAlerts(ctx.redis, ctx.prefix),
      deliver: (alert) => list.deliver({ type: 'alert', alert }),
      clipSeconds: config.alerts.clipSeconds,
      clips,
      logger,
    });
  }
  const parts = createIngest({
    config,
    redis: ctx.redis,
    logger,
    pipeline: (cameraId, frame, camera) => {
      if (!owner) throw new Error('this process does not ingest');
      return owner.pipelineFor(cameraId, frame, camera);
    },
  });
  if (sinks) {
    const list = sinks;
    parts.board.onChange((change) => void parts.store.get(change.cameraId).then(
      (camera) => list.deliver({ type: 'camera', ...change, ...(camera ? { name: camera.name } : {}) }),
      () => list.deliver({ type: 'camera', ...change }),
    ));
    // After the roles that deliver to them (registered first, stopped last), so their last events still go out.
    ctx.onStop('alert sinks', () => list.close());
  }
  if (publisher) {
    // The owner judges tracks, so it follows the registry too: the verdict (a track model) and the
    // alert policy it was validated with come with the model.
    const { holder } = ctx.services();
    owner = new TrackOwner({
      ownerId: parts.ingestor.id,
      sink,
      results: new CropResults(ctx.redis, ctx.prefix),
      reader: ctx.connection(),
      publisher,
      verdictFor: verdicts(holder),
      policy: () => holder.current?.manifest.track?.policy ?? null,
      logger,
      settings: {
        tracker: { confirmHits: config.tracking.confirmHits, maxGapMs: config.tracking.maxGapMs },
        crop: { context: config.tracking.cropContext, minSide: config.tracking.cropMinSide },
        cropSchedule: { dense: config.tracking.denseCrops, every: config.tracking.cropEvery, alertEvery: config.tracking.alertCropEvery, pressureEvery: config.tracking.pressureCropEvery },
        threshold: config.alerts.threshold,
        alertLabels: config.alerts.labels,
        minCrops: config.alerts.minCrops,
        updateEveryMs: config.alerts.updateEveryMs,
        rejoinMs: config.alerts.rejoinMs,
        clipSeconds: config.alerts.clipSeconds,
        bestCrops: config.alerts.bestCrops,
        maxInFlight: config.ingest.maxInFlightPerCamera,
        pressureInFlight: config.tracking.pressureInFlight,
        resultTimeoutMs: config.tracking.resultTimeoutMs,
        idleEndMs: config.tracking.idleEndMs,
      },
    });
  }
  return {
    ...parts,
    queue,
    owner,
    publisher,
    sinks,
    async start(startOptions = {}) {
      if (!owner) throw new Error('this process does not ingest');
      await owner.start();
      if (startOptions.demoCamera && (await parts.store.list()).length === 0) await addDemoCamera(ctx, parts);
      await parts.ingestor.start();
      // Ingest stops first (no new frames; each camera's tracks end), then the owner waits briefly for
      // the answers still on their way so the alerts they close are closed.
      const o = owner;
      ctx.onStop('tracks', () => o.stop(), 'first');
      ctx.onStop('ingest', () => parts.ingestor.stop(), 'first');
    },
  };
}

async function addDemoCamera(ctx: ProcessContext, ingest: IngestParts): Promise<void> {
  const { config, logger } = ctx;
  const dir = path.resolve(path.dirname(path.resolve(config.data)), 'videos', 'drone');
  if (!existsSync(dir)) {
    logger.warn({ dir }, 'no demo clip found: add a camera in the dashboard or with POST /v1/cameras');
    return;
  }
  const clip = readdirSync(dir).filter((f) => f.endsWith('.mp4')).sort()[0];
  if (!clip) return;
  // The one camera that may read a file whatever ingest.allowFileUrls says: its path is the server's.
  const camera = { ...createCamera({ name: 'Demo: drone clip (looping)', url: path.join(dir, clip), fps: 5, enabled: true }, { ...ingest.rules, allowFileUrls: true }), demo: true };
  await ingest.store.create(camera);
  logger.info({ camera: camera.id, clip }, `demo camera added: ${clip}, looping at 5 fps`);
}
