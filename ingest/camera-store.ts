import type { Camera } from './camera.js';

/** Where cameras live, so that a restart (of any role, on any machine) resumes them. */
export interface CameraStore {
  create(camera: Camera): Promise<void>;
  get(id: string): Promise<Camera | null>;
  list(): Promise<Camera[]>;
  /** Replaces a stored camera; false when it no longer exists (deleted meanwhile). */
  update(camera: Camera): Promise<boolean>;
  delete(id: string): Promise<boolean>;
}
