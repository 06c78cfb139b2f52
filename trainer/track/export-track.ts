import type * as tf from '@tensorflow/tfjs';
import { buildModel, GraphBuilder } from '../onnx/graph-builder.js';
import { appendLayers } from '../onnx/layers-to-onnx.js';
import { DataType } from '../onnx/onnx-proto.js';

export const TRACK_INPUT = 'track_features';
export const TRACK_OUTPUT = 'probabilities';

/** The track model as ONNX: `track_features` float32 [N, features] -> `probabilities` [N, labels]. */
export function exportTrackModel(model: tf.LayersModel, featureCount: number, labels: readonly string[]): Buffer {
  const b = new GraphBuilder({ name: 'skywatch_track_model' });
  const x = b.input(TRACK_INPUT, DataType.FLOAT, ['N', featureCount]);
  appendLayers(b, model.layers, x, TRACK_OUTPUT);
  b.output(TRACK_OUTPUT, DataType.FLOAT, ['N', labels.length]);
  return Buffer.from(buildModel(b.graph, 13, `Skywatch track model: verdict over ${labels.join(', ')} from motion and crop evidence`));
}
