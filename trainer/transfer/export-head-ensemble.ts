import type * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { appendLayers } from '../onnx/layers-to-onnx.js';
import { DataType, decodeModel, encodeModel } from '../onnx/onnx-proto.js';
import { OUTPUT_NAME, type ExportedModel } from '../onnx/export-layers-model.js';
import { FEATURES, type Backbone } from './backbone.js';

/**
 * The backbone with several heads on its features and their probabilities averaged (ONNX `Mean`):
 * one file, one backbone pass per image, whatever the number of heads. `prefix` names the heads' nodes
 * (`<prefix>0_…`), `what` the model in its description. With a `gate` (a two-way head on the same
 * features), its second class's probability is appended as one more output column.
 */
export async function exportHeadEnsemble(backbone: Backbone, heads: readonly tf.LayersModel[], labels: readonly string[], naming: { prefix: string; what: string; gate?: tf.LayersModel }): Promise<ExportedModel> {
  if (heads.length === 0) throw new SkywatchError('INTERNAL', `a ${naming.what} needs at least one head`);
  // A fresh copy of the backbone graph, so the backbone can be exported again (another model, a test).
  const model = decodeModel(backbone.featureModel);
  const graph = model.graph!;
  graph.output = [];
  const outputs = heads.map((head, k) => {
    // Each head's nodes under a prefix of their own: tfjs layer names repeat between heads.
    const b = new GraphBuilder(graph, `${naming.prefix}${k}_`);
    const out = heads.length === 1 && !naming.gate ? OUTPUT_NAME : `${naming.prefix}${k}_probabilities`;
    appendLayers(b, head.layers, FEATURES, out);
    return out;
  });
  const b = new GraphBuilder(graph, `${naming.prefix}_`);
  const columns = labels.length + (naming.gate ? 1 : 0);
  if (naming.gate) {
    const mean = outputs.length > 1 ? b.node('Mean', outputs) : outputs[0];
    const g = new GraphBuilder(graph, `${naming.prefix}gate_`);
    const gateProbs = `${naming.prefix}gate_probabilities`;
    appendLayers(g, naming.gate.layers, FEATURES, gateProbs);
    // [N, 2] x [[0], [1]]: the second class as a column (MatMul is in every opset the backbones use).
    const column = g.node('MatMul', [gateProbs, g.initializer('pick_second', [2, 1], [0, 1])]);
    b.node('Concat', [mean, column], { axis: 1 }, OUTPUT_NAME);
  } else if (outputs.length > 1) b.node('Mean', outputs, {}, OUTPUT_NAME);
  b.output(OUTPUT_NAME, DataType.FLOAT, ['N', columns]);
  model.docString = `Skywatch ${naming.what} for ${labels.join(', ')}: ${heads.length} head(s) averaged${naming.gate ? ', then the gate\'s column' : ''}; backbone sha256 ${backbone.sha256}, features from ${backbone.cutAt}`;
  model.producerName = 'skywatch';
  return { onnx: Buffer.from(encodeModel(model)), input: backbone.input, outputName: OUTPUT_NAME };
}
