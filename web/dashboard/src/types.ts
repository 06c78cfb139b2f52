/** Shapes the dashboard reads from the API. Fields are optional where older servers may omit them. */
export interface Alert {
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
  snapshotUrl?: string;
  modelVersion?: string;
  status?: 'open' | 'update' | 'closed';
}

export interface CameraStatus {
  state?: string;
  lastError?: string | null;
  fps?: number;
  framesDropped?: number;
  framesDecoded?: number;
}

export interface Camera {
  id: string;
  name: string;
  url: string;
  fps: number;
  enabled: boolean;
  status?: CameraStatus;
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
  accuracy?: number;
  isLatest?: boolean;
  status?: string;
}
