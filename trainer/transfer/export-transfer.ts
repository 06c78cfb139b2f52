import type * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { appendLayers } from '../onnx/layers-to-onnx.js';
import { DataType, decodeModel, encodeModel } from '../onnx/onnx-proto.js';
import { OUTPUT_NAME, type ExportedModel } from '../onnx/export-layers-model.js';
import { FEATURES, type Backbone } from './backbone.js';
import { addFlipAveraging } from './flip-tta.js';

/** The backbone graph with the trained head appended after its features: one ONNX file. */
export async function exportTransferModel(backbone: Backbone, head: tf.LayersModel, labels: string[], options: { flipAverage?: boolean } = {}): Promise<ExportedModel> {
  // Work on a fresh copy so the backbone can be exported again (a second run, a test).
  const model = decodeModel(backbone.featureModel);
  const graph = model.graph!;
  graph.output = [];
  const features = options.flipAverage ? addFlipAveraging(graph, backbone.input.name, FEATURES, backbone.featureDim, backbone.input.width) : FEATURES;
  const b = new GraphBuilder(graph, 'sw_head_');
  appendLayers(b, head.layers, features, OUTPUT_NAME);
  b.output(OUTPUT_NAME, DataType.FLOAT, ['N', labels.length]);
  model.docString = `Skywatch transfer model for ${labels.join(', ')}; backbone sha256 ${backbone.sha256}, features from ${backbone.cutAt}${options.flipAverage ? ', averaged over the image and its mirror' : ''}`;
  model.producerName = 'skywatch';
  return { onnx: Buffer.from(encodeModel(model)), input: backbone.input, outputName: OUTPUT_NAME };
}
