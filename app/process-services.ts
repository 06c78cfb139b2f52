import path from 'node:path';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { ModelRegistry } from '../core/model/registry.js';
import { MicroBatcher } from '../inference/micro-batcher.js';
import { ModelHolder } from '../inference/model-holder.js';
import { Predictor } from '../inference/predictor.js';
import { ServerMetrics } from '../web/metrics.js';
import { processUsage } from '../web/process-usage.js';
import { registerStageMetrics } from '../web/stage-metrics.js';

/**
 * What one process shares between every consumer of the model: ONE model holder (one ONNX session in
 * memory, one hot-reload loop) and ONE micro-batcher, so REST predictions and camera crops share
 * batches, and every batch lands in the same skywatch_inference_* metrics whichever role asked for it.
 */
export interface ProcessServices {
  holder: ModelHolder;
  batcher: MicroBatcher;
  predictor: Predictor;
  /** The process's Prometheus registry with the inference metrics (the API serves it; other roles too). */
  metrics: ServerMetrics;
  /** Starts following the registry (idempotent). */
  start(): void;
  stop(): Promise<void>;
}

export function createProcessServices(deps: { config: Config; logger: Logger; registry: ModelRegistry; /** A holder made elsewhere (tests): used, followed for metrics, never stopped here. */ holder?: ModelHolder }): ProcessServices {
  const { config, logger, registry } = deps;
  const metrics = new ServerMetrics();
  // Per-stage timings (decode, preprocess, inference, snapshot...) of whatever this process runs.
  const stopStageMetrics = registerStageMetrics(metrics.registry);
  const holder = deps.holder ?? new ModelHolder({
    registry,
    cacheDir: config.inference.cacheDir ?? path.join(config.stateDir, 'cache', 'models'),
    threads: { intraOpThreads: config.inference.intraOpThreads, interOpThreads: config.inference.interOpThreads, spin: config.inference.spinThreads },
    pollIntervalMs: config.inference.pollIntervalMs,
    logger,
  });
  holder.on('reload', (outcome: string) => metrics.reloads.inc({ outcome }));
  holder.on('swap', (m: { version: string }) => metrics.setModel(m.version));
  metrics.setModel(holder.current?.version ?? null);
  const batcher = new MicroBatcher({
    maxBatch: config.inference.maxBatch,
    maxWaitMs: config.inference.maxWaitMs,
    onBatch: (n, ms) => metrics.observeBatch(n, ms),
  });
  const predictor = new Predictor(holder, batcher, { maxPixels: config.api.maxPixels });
  metrics.registerSummarySource('process', processUsage());
  metrics.registerSummarySource('inference', () => ({ model: holder.current?.version ?? null, queued: batcher.queued, lastReloadError: holder.lastError }));
  let started = false;
  let stopped: Promise<void> | null = null;
  return {
    holder,
    batcher,
    predictor,
    metrics,
    start() {
      if (started || deps.holder) return;
      started = true;
      holder.start();
    },
    stop() {
      stopped ??= (deps.holder ? Promise.resolve() : holder.stop()).finally(stopStageMetrics);
      return stopped;
    },
  };
}
