import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { ModelRegistry } from '../core/model/registry.js';
import { loadDriftBaseline } from './baseline-store.js';
import { DriftMonitor } from './drift-monitor.js';

/** The live monitor with the thresholds from config (`drift.*`). */
export function createDriftMonitor(config: Config['drift']): DriftMonitor {
  return new DriftMonitor({
    method: config.method,
    psiThreshold: config.psiThreshold,
    ksPValue: config.ksPValue,
    minDriftedFeatures: config.minDriftedFeatures,
    includeScores: config.includeScores,
    minEffect: config.minEffect,
    window: config.window,
    minSamples: config.minSamples,
    everySamples: config.everySamples,
    eventCooldownMs: config.eventCooldownMs,
  });
}

/** What follows a model holder: its current version and the 'swap' event (inference/model-holder.ts). */
export interface ModelSource {
  current: { version: string } | null;
  on(event: 'swap', listener: (m: { version: string }) => void): unknown;
  off(event: 'swap', listener: (m: { version: string }) => void): unknown;
}

/**
 * Keeps the monitor on the baseline of the model being served: loaded beside the model from the
 * registry (models/<version>/drift-baseline.json) now and on every swap. A model published without a
 * baseline turns drift off (logged once) rather than comparing against another model's data.
 */
export function followModel(monitor: DriftMonitor, holder: ModelSource, registry: ModelRegistry, logger: Logger): () => void {
  let wanted: string | null = null;
  const load = async (version: string): Promise<void> => {
    wanted = version;
    try {
      const baseline = await loadDriftBaseline(registry, version);
      if (wanted !== version) return;
      monitor.setBaseline(baseline);
      if (!baseline) logger.warn({ version }, `model ${version} has no drift baseline: drift monitoring is off until a model with one is served`);
      else logger.info({ version, samples: baseline.count }, `drift baseline of ${version} loaded (${baseline.count} samples)`);
    } catch (err) {
      logger.warn({ err, version }, 'could not load the drift baseline; drift monitoring is off');
      if (wanted === version) monitor.setBaseline(null);
    }
  };
  const onSwap = (m: { version: string }): void => void load(m.version);
  holder.on('swap', onSwap);
  if (holder.current) void load(holder.current.version);
  return () => holder.off('swap', onSwap);
}
