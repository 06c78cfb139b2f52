import { Gauge, type Registry } from 'prom-client';
import type { CameraStatus } from '../ingest/camera-supervisor.js';
import type { WorkerCounters } from '../inference/frame-worker.js';
import type { TrackAlertPublisher } from '../ingest/track-alerts.js';

/**
 * Prometheus view of the streaming pipeline, read when scraped: frames decoded, gated out, queued and
 * dropped by reason per camera (ingest), alert events and evidence clips (ingest), and frames inferred,
 * crops and drops by reason (worker).
 */
export function registerPipelineMetrics(registry: Registry, sources: { cameras?: () => CameraStatus[]; alerts?: () => TrackAlertPublisher | null; worker?: () => WorkerCounters | null; queueDepth?: () => Promise<number> }): void {
  if (sources.alerts) {
    const publisher = sources.alerts;
    new Gauge({
      name: 'skywatch_alert_events',
      help: 'Alert events this ingest process wrote since it started (opened, updated, closed, orphans_closed), and verdicts suppressed (a score of 0 or a box of the whole frame)',
      labelNames: ['event'],
      registers: [registry],
      collect() {
        this.reset();
        const c = publisher()?.counters;
        if (!c) return;
        for (const [event, n] of [['opened', c.opened], ['updated', c.updated], ['closed', c.closed], ['orphans_closed', c.orphansClosed], ['suppressed', c.suppressed]] as const) this.set({ event }, n);
      },
    });
    new Gauge({
      name: 'skywatch_evidence_clips',
      help: 'Evidence clips waiting for the encoder now, first clips skipped (their closing clip covers them) and closing clips dropped (the encoder was far behind) since the process started',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.reset();
        const p = publisher();
        if (!p) return;
        this.set({ state: 'waiting' }, p.clipsWaiting);
        this.set({ state: 'skipped' }, p.counters.clipsSkipped);
        this.set({ state: 'dropped' }, p.counters.clipsDropped);
      },
    });
  }
  new Gauge({
    name: 'skywatch_camera_frames',
    help: 'Frames per camera and stage since the camera started (decoded, gated = had no motion, queued, dropped by reason)',
    labelNames: ['camera', 'stage', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of sources.cameras?.() ?? []) {
        this.set({ camera: c.id, stage: 'decoded', reason: '' }, c.framesDecoded);
        this.set({ camera: c.id, stage: 'gated', reason: '' }, c.framesGated);
        this.set({ camera: c.id, stage: 'queued', reason: '' }, c.framesQueued);
        for (const [reason, n] of Object.entries(c.drops ?? {})) this.set({ camera: c.id, stage: 'dropped', reason }, n);
      }
    },
  });
  new Gauge({
    name: 'skywatch_worker_frames',
    help: 'Frames this worker inferred (inferred_in_process: of those, its own process\'s camera frames scored without the queue), crops it classified, frames it dropped by reason, alerts it opened',
    labelNames: ['what', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      const w = sources.worker?.();
      if (!w) return;
      this.set({ what: 'inferred', reason: '' }, w.inferred);
      this.set({ what: 'inferred_in_process', reason: '' }, w.inProcess);
      this.set({ what: 'crops', reason: '' }, w.crops);
      this.set({ what: 'alerts', reason: '' }, w.alerts);
      for (const [reason, n] of Object.entries(w.dropped)) this.set({ what: 'dropped', reason }, n);
    },
  });
  if (sources.queueDepth) {
    const depth = sources.queueDepth;
    new Gauge({
      name: 'skywatch_queue_depth',
      help: 'Frame jobs waiting in the queue',
      registers: [registry],
      async collect() {
        // A scrape must not hang while Redis is away: no answer in a second reads as -1.
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), 1_000)));
        this.set(await Promise.race([depth().catch(() => -1), late]).finally(() => clearTimeout(timer)));
      },
    });
  }
}
