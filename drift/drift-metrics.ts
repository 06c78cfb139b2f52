import { Gauge, type Registry } from 'prom-client';
import type { DriftMonitor } from './drift-monitor.js';

/**
 * Prometheus view of the drift monitor, read when scraped: `skywatch_drift_psi{camera,feature}`,
 * `skywatch_drift_ks_pvalue{camera,feature}` and `skywatch_camera_drifted{camera}` (1 when drifted).
 */
export function registerDriftMetrics(registry: Registry, monitor: DriftMonitor): void {
  if (registry.getSingleMetric('skywatch_drift_psi')) return;
  new Gauge({
    name: 'skywatch_drift_psi',
    help: 'Population Stability Index of each feature of a camera\'s recent crops against the model\'s training baseline',
    labelNames: ['camera', 'feature'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of monitor.report().cameras) for (const f of c.features) this.set({ camera: c.cameraId, feature: f.name }, f.psi);
    },
  });
  new Gauge({
    name: 'skywatch_drift_ks_pvalue',
    help: 'Kolmogorov-Smirnov p-value of each feature of a camera\'s recent crops against the training baseline',
    labelNames: ['camera', 'feature'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of monitor.report().cameras) for (const f of c.features) this.set({ camera: c.cameraId, feature: f.name }, f.pValue);
    },
  });
  new Gauge({
    name: 'skywatch_camera_drifted',
    help: '1 when a camera\'s recent crops drifted from the training baseline (thresholds in config drift.*)',
    labelNames: ['camera'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of monitor.report().cameras) this.set({ camera: c.cameraId }, c.drifted ? 1 : 0);
    },
  });
}
