import type * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { appendLayers } from '../onnx/layers-to-onnx.js';
import { DataType, decodeModel, encodeModel } from '../onnx/onnx-proto.js';
import { OUTPUT_NAME, type ExportedModel } from '../onnx/export-layers-model.js';
import { FEATURES, type Backbone } from '../transfer/backbone.js';

/**
 * The backbone with several heads on its features and their probabilities averaged (ONNX `Mean`):
 * one file, one backbone pass per image, whatever the number of heads.
 */
export async function exportPhotoModel(backbone: Backbone, heads: tf.LayersModel[], labels: string[]): Promise<ExportedModel> {
  if (heads.length === 0) throw new SkywatchError('INTERNAL', 'a photo model needs at least one head');
  // A fresh copy of the backbone graph, so the backbone can be exported again (the crop model, a test).
  const model = decodeModel(backbone.featureModel);
  const graph = model.graph!;
  graph.output = [];
  const outputs = heads.map((head, k) => {
    // Each head's nodes under a prefix of their own: tfjs layer names repeat between heads.
    const b = new GraphBuilder(graph, `sw_photo${k}_`);
    const out = heads.length === 1 ? OUTPUT_NAME : `sw_photo${k}_probabilities`;
    appendLayers(b, head.layers, FEATURES, out);
    return out;
  });
  const b = new GraphBuilder(graph, 'sw_photo_');
  if (outputs.length > 1) b.node('Mean', outputs, {}, OUTPUT_NAME);
  b.output(OUTPUT_NAME, DataType.FLOAT, ['N', labels.length]);
  model.docString = `Skywatch photo model for ${labels.join(', ')}: ${heads.length} head(s) averaged; backbone sha256 ${backbone.sha256}, features from ${backbone.cutAt}`;
  model.producerName = 'skywatch';
  return { onnx: Buffer.from(encodeModel(model)), input: backbone.input, outputName: OUTPUT_NAME };
}
