import { GraphBuilder } from '../onnx/graph-builder.js';
import type { Graph } from '../onnx/onnx-proto.js';

/**
 * Test-time flip averaging inside the exported graph: the image and its mirror go through the
 * backbone as one batch of 2N, and the two feature vectors of each image are averaged before the
 * head. The model file keeps its input, output and manifest, so serving needs no change; it costs a
 * second backbone pass per image. Returns the name of the averaged feature tensor.
 */
export function addFlipAveraging(graph: Graph, input: string, features: string, featureDim: number, width: number): string {
  const b = new GraphBuilder(graph, 'sw_tta_');
  const before = graph.node!.length;
  const doubled = b.name('doubled');
  // Every consumer of the image now reads the doubled batch; the new nodes go first (topological order).
  for (const n of graph.node!) n.input = (n.input ?? []).map((i) => (i === input ? doubled : i));
  const reversed = b.int64Initializer('columns', [width], Array.from({ length: width }, (_, i) => width - 1 - i));
  const mirrored = b.node('Gather', [input, reversed], { axis: 3 });
  b.node('Concat', [input, mirrored], { axis: 0 }, doubled);
  const prefix = graph.node!.splice(before);
  graph.node!.unshift(...prefix);
  // [2N, D] -> [2, N, D] -> mean over the first axis.
  const pairs = b.node('Reshape', [features, b.int64Initializer('pairs', [3], [2, -1, featureDim])]);
  return b.node('ReduceMean', [pairs], { axes: [0], keepdims: 0 });
}
