import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sha256 } from '../../core/hash.js';
import type { ModelManifest } from '../../core/model/manifest.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { buildModel, GraphBuilder } from '../../trainer/onnx/graph-builder.js';
import { DataType } from '../../trainer/onnx/onnx-proto.js';

/**
 * A real, tiny ONNX classifier: mean colour of a 16x16 image -> Gemm -> softmax over two labels.
 * `flip` swaps its answers, so a test can tell which version answered.
 */
export function tinyModel(flip = false, size = 16): Buffer {
  const b = new GraphBuilder({ name: 'tiny' }, 't_');
  b.input('input', DataType.FLOAT, ['N', 3, size, size]);
  const pooled = b.node('Flatten', [b.node('GlobalAveragePool', ['input'])], { axis: 1 });
  // Red-heavy images score label 0 ("bird"), blue-heavy label 1 ("drone"); flip reverses that.
  const w = flip ? [-8, 8, 0, 0, 8, -8] : [8, -8, 0, 0, -8, 8];
  const logits = b.node('Gemm', [pooled, b.initializer('w', [3, 2], w), b.initializer('b', [2], [0, 0])], { transB: 0 });
  b.node('Softmax', [logits], { axis: 1 }, 'probabilities');
  b.output('probabilities', DataType.FLOAT, ['N', 2]);
  return Buffer.from(buildModel(b.graph, 13));
}

export function tinyManifest(version: string, bytes: Buffer, accuracy = 0.9, size = 16): ModelManifest {
  return {
    version,
    created: new Date().toISOString(),
    labels: ['bird', 'drone'],
    kind: 'frame',
    input: { name: 'input', layout: 'NCHW', height: size, width: size, channelOrder: 'RGB', mean: [0, 0, 0], std: [255, 255, 255] },
    output: { name: 'probabilities', kind: 'probabilities' },
    sha256: sha256(bytes),
    metrics: { accuracy, perLabel: {}, macroF1: accuracy, confusion: [[1, 0], [0, 1]], rocAuc: {}, count: 2, splitFingerprint: 'tiny' },
    parent: null,
  };
}

/** Publishes a tiny model as `version` (forced to latest); `overrides` bend its manifest (e.g. wrong labels). */
export async function publishTiny(registry: ModelRegistry, dir: string, version: string, flip = false, overrides: Partial<ModelManifest> = {}): Promise<ModelManifest> {
  mkdirSync(dir, { recursive: true });
  const bytes = tinyModel(flip);
  const file = path.join(dir, `${version}.onnx`);
  writeFileSync(file, bytes);
  const manifest = { ...tinyManifest(version, bytes), ...overrides };
  await registry.publish({ version, modelPath: file, manifest, reportHtml: `<html><body>report ${version}</body></html>`, promote: 'force' });
  return manifest;
}
