/** Shapes the dashboard reads from the API. Fields are optional where older servers may omit them. */
export interface PathPoint {
  x: number;
  y: number;
  at: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Alert {
  /** The stream entry id of this event: ids grow with time, so the larger id is the newer event. */
  id: string;
  /** Stable across updates of one alert; the stream entry id of its first event. */
  alertId?: string;
  cameraId: string;
  cameraName?: string;
  label: string;
  score: number;
  firstAt: number;
  lastAt: number;
  frames?: number;
  snapshotUrl?: string | null;
  clipUrl?: string | null;
  modelVersion?: string;
  status?: 'open' | 'update' | 'closed';
  trackId?: string;
  scores?: Record<string, number>;
  path?: PathPoint[];
  uncertain?: boolean;
}

export type ReviewAction = 'acknowledge' | 'false_alarm' | 'relabel';

/** One alert as the review database keeps it (GET /v1/review). */
export interface AlertRecord {
  alertId: string;
  cameraId: string;
  label: string;
  score: number;
  scores?: Record<string, number>;
  trackId?: string;
  status: 'open' | 'closed';
  firstAt: number;
  lastAt: number;
  frames: number;
  box: Box | null;
  path?: PathPoint[];
  snapshotUrl: string | null;
  clipUrl: string | null;
  modelVersion: string;
  uncertain: boolean;
  review: null | { action: ReviewAction; label?: string; note?: string; by: string; at: number };
}

export interface CameraStatus {
  state?: string;
  lastError?: string | null;
  fps?: number;
  framesDropped?: number;
  /** How late the camera's latest frames arrived after their capture, ms (null while not live). */
  lagMs?: number | null;
  framesDecoded?: number;
  lastFrameAt?: number | null;
  since?: number;
  restarts?: number;
  /** A looping file camera: times it started its file again from the beginning. */
  passes?: number;
  /** A video file on a web server being copied before it plays. */
  fetching?: { bytes: number; total: number | null } | null;
  width?: number | null;
  height?: number | null;
  cropStream?: { state: string; lastError: string | null; width: number | null; height: number | null } | null;
}

/** A polygon in frame coordinates normalised to 0..1. */
export type Polygon = Array<[number, number]>;

export interface Camera {
  id: string;
  name: string;
  url: string;
  /** The higher-resolution stream crops are cut from, credentials masked. */
  cropUrl?: string;
  fps: number;
  enabled: boolean;
  /** File cameras: false plays the file once (the camera then reports `ended`); absent or true loops. */
  loop?: boolean;
  status?: CameraStatus;
  motionMasks?: Polygon[];
  alertZones?: Polygon[];
  threshold?: number;
  labels?: string[];
}

export interface Prediction {
  label: string;
  confidence: number;
  scores: Record<string, number>;
  modelVersion: string;
  inferenceMs?: number;
  timings?: Record<string, number>;
}

export interface ModelEntry {
  version: string;
  created?: string;
  accuracy?: number | null;
  isLatest?: boolean;
  status?: string;
}
