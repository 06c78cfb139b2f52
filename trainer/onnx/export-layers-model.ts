import type * as tf from '@tensorflow/tfjs';
import type { ModelInput } from '../../core/model/manifest.js';
import { buildModel, GraphBuilder } from './graph-builder.js';
import { appendLayers } from './layers-to-onnx.js';
import { DataType } from './onnx-proto.js';

export interface ExportedModel {
  onnx: Buffer;
  input: ModelInput;
  outputName: string;
}

export const OUTPUT_NAME = 'probabilities';

/**
 * A tfjs image classifier (NHWC, already-normalised input) as one ONNX model whose input is NCHW
 * float32 named per the manifest and whose output `probabilities` is [N, labels].
 */
export async function exportLayersModel(model: tf.LayersModel, input: ModelInput, labels: string[]): Promise<ExportedModel> {
  const b = new GraphBuilder({ name: model.name });
  const x = b.input(input.name, DataType.FLOAT, ['N', 3, input.height, input.width]);
  appendLayers(b, model.layers, x, OUTPUT_NAME);
  b.output(OUTPUT_NAME, DataType.FLOAT, ['N', labels.length]);
  return { onnx: Buffer.from(buildModel(b.graph, 13, `Skywatch classifier for ${labels.join(', ')}`)), input, outputName: OUTPUT_NAME };
}
