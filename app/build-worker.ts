import { AlertRules } from '../inference/alert-rules.js';
import { FrameWorker } from '../inference/frame-worker.js';
import { WebhookSink } from '../inference/webhook-sink.js';
import type { ProcessContext } from './process-context.js';

/**
 * The worker role: frame jobs from the queue through the process's shared micro-batcher. Jobs are
 * taken only once a model is loaded (before that they wait in the queue or pass their deadline).
 */
export function buildWorker(ctx: ProcessContext): FrameWorker {
  const { config, logger } = ctx;
  const services = ctx.services();
  const rules = new AlertRules({ k: config.alerts.k, n: config.alerts.n, threshold: config.alerts.threshold, cooldownMs: config.alerts.cooldownMs, endAfterMs: 3_000 });
  const webhook = config.alerts.webhookUrl ? new WebhookSink({ url: config.alerts.webhookUrl, cooldownMs: config.alerts.webhookCooldownMs, logger }) : undefined;
  const worker = new FrameWorker({ redis: ctx.connection(), prefix: ctx.prefix, predictor: services.predictor, rules, alerts: ctx.stream, logger, deadlineMs: config.ingest.frameDeadlineMs, webhook });
  if (services.holder.current) worker.start();
  else services.holder.once('swap', () => worker.start());
  // Workers stop before the API (in-flight jobs finish) but after ingest stopped feeding them.
  ctx.onStop('worker', () => worker.close());
  return worker;
}
