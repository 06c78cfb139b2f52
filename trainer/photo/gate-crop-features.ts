import type { Backbone } from '../transfer/backbone.js';
import { computeEmbeddings } from '../transfer/embeddings.js';
import { gatherRows } from '../fit/gather-rows.js';
import { trainingCropRows, type EmbeddedClips, type TrackTrainSettings } from '../track/train-track.js';
import { spreadRows } from './train-photo-gate.js';

export interface GateCropOptions {
  /** The clips' crops are embedded by `photoBackbone` already (the photo model shares the crop model's cut). */
  sameCut: boolean;
  cacheDir: string;
  signal?: AbortSignal;
}

/**
 * The camera crops the photo gate learns against the photographs: the training crops of the given
 * clips (as the crop model learns them), as many as there are photographs, spread evenly, in the
 * photo model's own features. When the photo model looks at a larger input than the crop model, the
 * same crop images are embedded again at its size: the gate runs on the photo model's backbone pass.
 */
export async function gateCropFeatures(data: EmbeddedClips, clipIndexes: readonly number[], labels: readonly string[], settings: Pick<TrackTrainSettings, 'positiveLabels' | 'otherTracksPerClip' | 'maxCropsPerTrack'>, photos: number, photoBackbone: Backbone, options: GateCropOptions): Promise<Float32Array> {
  const { rowIndexes } = trainingCropRows(data, clipIndexes, labels, settings);
  const rows = spreadRows(rowIndexes.length, photos).map((i) => rowIndexes[i]);
  if (options.sameCut) return gatherRows(data.features, rows, data.dim);
  return computeEmbeddings(photoBackbone, rows.map((r) => data.files[r]), { cacheDir: options.cacheDir, signal: options.signal, augment: false });
}
