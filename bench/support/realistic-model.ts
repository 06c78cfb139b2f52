import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { sha256 } from '../../core/hash.js';
import type { ModelManifest } from '../../core/model/manifest.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { loadBackbone } from '../../trainer/transfer/backbone.js';
import { spreadEvenly } from '../../trainer/track/train-track.js';
import { exportTransferModel } from '../../trainer/transfer/export-transfer.js';
import { createHead } from '../../trainer/transfer/head.js';

export const SQUEEZENET = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');
const PHOTOS = path.resolve('../shared/data/images/train');

/**
 * The shipped SqueezeNet with a (seeded, untrained) head: the shape and cost of a real Skywatch model.
 * BENCH_INT8_MODEL=1: its convolutions 8-bit, as `train --int8-crops` ships them (calibrated here on
 * photographs, which moves only the scores, not the cost).
 */
export async function publishRealisticModel(dir: string, version = 'bench-1'): Promise<{ registryDir: string; modelPath: string; manifest: ModelManifest }> {
  await tf.setBackend('cpu');
  const backbone = await loadBackbone(SQUEEZENET, process.env.BENCH_INT8_MODEL === '1' ? { quantise: { images: calibrationPhotos(32) } } : {});
  const head = createHead(backbone.featureDim, 2, { seed: 1 });
  const exported = await exportTransferModel(backbone, head, ['bird', 'drone']);
  mkdirSync(dir, { recursive: true });
  const modelPath = path.join(dir, 'model.onnx');
  writeFileSync(modelPath, exported.onnx);
  const manifest: ModelManifest = {
    version,
    created: new Date().toISOString(),
    labels: ['bird', 'drone'],
    kind: 'frame',
    input: exported.input,
    output: { name: exported.outputName, kind: 'probabilities' },
    sha256: sha256(exported.onnx),
    sizeBytes: exported.onnx.length,
    parent: null,
  };
  const registryDir = path.join(dir, 'registry');
  await new ModelRegistry(new LocalStore(registryDir)).publish({ version, modelPath, manifest, promote: 'force' });
  return { registryDir, modelPath, manifest };
}

function calibrationPhotos(count: number): string[] {
  return spreadEvenly(['bird', 'drone'].flatMap((label) => readdirSync(path.join(PHOTOS, label)).sort().map((f) => path.join(PHOTOS, label, f))), count);
}
