/**
 * Every Redis key and queue name Skywatch uses, in one place, all under the configured prefix (use a
 * hash tag such as `{skywatch}` for Redis Cluster, so they share one slot).
 */
export const names = (prefix: string) => ({
  queuePrefix: prefix,
  frames: 'frames',
  pixels: (jobId: string) => `${prefix}:px:${jobId}`,
  /** Crop scores on their way back to the ingestor that owns the camera (one stream per ingestor). */
  results: (ownerId: string) => `${prefix}:results:${ownerId}`,
  alerts: `${prefix}:alerts`,
  snapshot: (id: string) => `${prefix}:alert-snap:${id}`,
  /** An alert's evidence clip (MP4), under its alertId. */
  clip: (alertId: string) => `${prefix}:alert-clip:${alertId}`,
  /** An alert's best crops (list of PNGs), under its alertId: `cropsKey` of the alert. */
  crops: (alertId: string) => `${prefix}:alert-crops:${alertId}`,
  /** Alerts of a camera still open (hash alertId -> last event), closed by whoever takes the camera over. */
  openAlerts: (cameraId: string) => `${prefix}:open-alerts:${cameraId}`,
  counters: `${prefix}:stream-counters`,
  cameras: `${prefix}:cameras`,
  /** Which ingestor pulls a camera (value: its id; expires unless renewed). */
  lease: (cameraId: string) => `${prefix}:ingest:lease:${cameraId}`,
  /** Ingestors alive (sorted set: id -> when its membership expires, ms on Redis's clock). */
  ingestors: `${prefix}:ingest:roster`,
  cameraStatus: (cameraId: string) => `${prefix}:ingest:status:${cameraId}`,
  /** Play-once cameras that played to their end (hash cameraId -> the camera's updatedAt then and its final status); never expires. */
  camerasEnded: `${prefix}:ingest:ended`,
  /** The last picture of such a camera (JPEG), kept with it. */
  cameraEndedSnapshot: (cameraId: string) => `${prefix}:ingest:ended-snapshot:${cameraId}`,
  cameraSnapshot: (cameraId: string) => `${prefix}:ingest:snapshot:${cameraId}`,
  /** Set while someone looks at a camera's preview: only those cameras' frames are encoded and published. */
  cameraSnapshotWanted: (cameraId: string) => `${prefix}:ingest:snapshot-wanted:${cameraId}`,
});
