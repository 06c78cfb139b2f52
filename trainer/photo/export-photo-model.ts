import type * as tf from '@tensorflow/tfjs';
import type { ExportedModel } from '../onnx/export-layers-model.js';
import type { Backbone } from '../transfer/backbone.js';
import { exportHeadEnsemble } from '../transfer/export-head-ensemble.js';

/**
 * The photo model: the backbone with the photo heads averaged, one backbone pass per image; with a
 * gate, its P(photograph) is the last output column (PHOTO_GATE_COLUMN).
 */
export function exportPhotoModel(backbone: Backbone, heads: tf.LayersModel[], labels: string[], gate?: tf.LayersModel): Promise<ExportedModel> {
  return exportHeadEnsemble(backbone, heads, labels, { prefix: 'sw_photo', what: 'photo model', ...(gate ? { gate } : {}) });
}
