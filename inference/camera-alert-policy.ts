import { inAnyPolygon, type Polygon } from '../core/geometry/polygon.js';
import type { CameraStore } from '../ingest/camera-store.js';
import type { Region } from '../ingest/motion.js';

/** Labels that raise alerts on a camera that names none. */
export const DEFAULT_ALERT_LABELS = ['drone'];

/** What one camera's settings ask of the worker: where objects may alert, from which score, which labels. */
export class CameraAlertPolicy {
  constructor(readonly zones: Polygon[], readonly threshold: number | undefined, readonly labels: string[]) {}

  /**
   * True when an object's box may raise an alert: no zones, its centre inside one, or the box is the
   * whole frame (a whole-frame model's crop has no position to judge).
   */
  admits(box: Region | null, frameWidth: number, frameHeight: number): boolean {
    if (this.zones.length === 0 || !box || frameWidth <= 0 || frameHeight <= 0) return true;
    if (box.x <= 0 && box.y <= 0 && box.width >= frameWidth && box.height >= frameHeight) return true;
    return inAnyPolygon((box.x + box.width / 2) / frameWidth, (box.y + box.height / 2) / frameHeight, this.zones);
  }

  /** Fields of an alert-rules observation that override the global settings. */
  get rule(): { threshold?: number; labels: string[] } {
    return { ...(this.threshold !== undefined ? { threshold: this.threshold } : {}), labels: this.labels };
  }
}

/**
 * Camera policies read from the camera store, cached briefly per camera so the worker does not read
 * Redis for every frame; a changed camera applies within `ttlMs`. A camera the store does not know
 * (deleted, or frames submitted by hand) has no policy: the global alert settings apply.
 */
export class CameraAlertPolicies {
  private readonly cache = new Map<string, { at: number; policy: CameraAlertPolicy | null }>();

  constructor(private readonly store: Pick<CameraStore, 'get'>, private readonly ttlMs = 2_000, private readonly now: () => number = Date.now) {}

  async get(cameraId: string): Promise<CameraAlertPolicy | null> {
    const hit = this.cache.get(cameraId);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.policy;
    let policy: CameraAlertPolicy | null = hit?.policy ?? null;
    try {
      const camera = await this.store.get(cameraId);
      policy = camera ? new CameraAlertPolicy(camera.alertZones ?? [], camera.threshold, camera.labels ?? DEFAULT_ALERT_LABELS) : null;
    } catch {
      // Redis away: keep the last known policy rather than alerting without zones.
    }
    this.cache.set(cameraId, { at: this.now(), policy });
    return policy;
  }
}
