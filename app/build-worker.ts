import { FrameWorker } from '../inference/frame-worker.js';
import { CropResults } from '../queue/crop-results.js';
import type { ProcessContext } from './process-context.js';

/**
 * The worker role, a stateless crop scorer: frame jobs from the queue through the process's shared
 * micro-batcher, scores back to each camera's owner; every scored crop also feeds the process's drift monitor. Jobs are taken only once a model is loaded
 * (before that they wait in the queue or pass their deadline).
 */
export function buildWorker(ctx: ProcessContext): FrameWorker {
  const { config, logger } = ctx;
  const services = ctx.services();
  const worker = new FrameWorker({ redis: ctx.connection(), prefix: ctx.prefix, predictor: services.predictor, results: new CropResults(ctx.redis, ctx.prefix), logger, deadlineMs: config.ingest.frameDeadlineMs, drift: ctx.drift() ?? undefined });
  if (services.holder.current) worker.start();
  else services.holder.once('swap', () => worker.start());
  ctx.onStop('worker', () => worker.close());
  return worker;
}
