import { inAnyPolygon, type Polygon } from '../core/geometry/polygon.js';
import type { Box } from '../core/image/crop-pixels.js';
import type { Camera } from './camera.js';

/** What the camera record may say about its alerts (fields of ingest/camera.ts, all optional). */
export type CameraAlertFields = Partial<Pick<Camera, 'alertZones' | 'threshold' | 'labels'>>;

/** The alert settings a camera's TrackJudge gets when the camera says nothing. */
export interface AlertDefaults {
  threshold: number;
  alertLabels: readonly string[];
}

/**
 * One camera's alert settings over the defaults (the loaded track model's policy, else config): where
 * tracks may alert (its alert zones), from which verdict score, for which labels. The owner of the
 * camera builds one per connection; a changed camera record restarts the connection, so changes apply.
 */
export class CameraAlertPolicy {
  readonly zones: Polygon[];
  readonly threshold: number;
  readonly alertLabels: readonly string[];

  constructor(camera: CameraAlertFields, defaults: AlertDefaults) {
    this.zones = Array.isArray(camera.alertZones) ? camera.alertZones : [];
    this.threshold = typeof camera.threshold === 'number' ? camera.threshold : defaults.threshold;
    this.alertLabels = Array.isArray(camera.labels) && camera.labels.length ? camera.labels : defaults.alertLabels;
  }

  /**
   * True when an object's box may raise an alert: no zones, its centre inside one, or the box is the
   * whole frame (nothing to place).
   */
  admits(box: Box | null, frameWidth: number, frameHeight: number): boolean {
    if (this.zones.length === 0 || !box || frameWidth <= 0 || frameHeight <= 0) return true;
    if (box.x <= 0 && box.y <= 0 && box.width >= frameWidth && box.height >= frameHeight) return true;
    return inAnyPolygon((box.x + box.width / 2) / frameWidth, (box.y + box.height / 2) / frameHeight, this.zones);
  }
}
