import { Histogram, type Registry } from 'prom-client';
import { stageTimer, type StageTimer } from '../inference/stage-timer.js';

const NAME = 'skywatch_stage_seconds';

/**
 * `skywatch_stage_seconds{stage}`: a histogram per serving stage (decode, preprocess, queue_wait,
 * inference, alert_rules, snapshot) in `registry`, fed by the process's stage timer. Safe to call
 * for several registries; each gets its own histogram. Returns a function that stops feeding it.
 */
export function registerStageMetrics(registry: Registry, timer: StageTimer = stageTimer): () => void {
  if (registry.getSingleMetric(NAME)) return () => undefined;
  const histogram = new Histogram({
    name: NAME,
    help: 'Seconds per serving stage of a prediction: decode, preprocess, queue_wait, inference (per batch), alert_rules, snapshot',
    labelNames: ['stage'],
    buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
    registers: [registry],
  });
  return timer.onObserve((stage, seconds) => histogram.observe({ stage }, seconds));
}
