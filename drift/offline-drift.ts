import { existsSync } from 'node:fs';
import { SkywatchError } from '../core/errors.js';
import type { ModelManifest } from '../core/model/manifest.js';
import { loadBackbone } from '../trainer/transfer/backbone.js';
import { computeEmbeddings } from '../trainer/transfer/embeddings.js';
import type { DriftBaseline } from './drift-baseline.js';
import { compareWithBaseline, type DriftResult, type DriftThresholds } from './drift-compare.js';
import { listImages } from './list-images.js';
import { samplesFromFiles } from './samples-from-files.js';

export interface OfflineDrift {
  data: string;
  model: string;
  files: number;
  skipped: Array<{ path: string; reason: string }>;
  result: DriftResult;
  seconds: number;
}

/** `skywatch drift --data DIR`: every image of a folder against the model's baseline, as one window. */
export async function driftOfFolder(request: { dir: string; modelPath: string; manifest: ModelManifest; baseline: DriftBaseline; thresholds: DriftThresholds; backbonePath?: string; cacheDir: string; maxFiles?: number }): Promise<OfflineDrift> {
  const t0 = performance.now();
  let files = await listImages(request.dir);
  if (files.length === 0) throw new SkywatchError('DATA_EMPTY', `no images (JPEG, PNG, WebP) under ${request.dir}`);
  if (request.maxFiles && files.length > request.maxFiles) {
    const step = files.length / request.maxFiles;
    files = Array.from({ length: request.maxFiles }, (_, i) => files[Math.floor(i * step)]);
  }
  // Embedding features only when the baseline has them and the backbone is at hand.
  const wantsEmbedding = Object.keys(request.baseline.features).some((f) => f.startsWith('embedding:'));
  let embeddings: Float32Array | undefined;
  let embeddingDim: number | undefined;
  if (wantsEmbedding && request.backbonePath && existsSync(request.backbonePath)) {
    const backbone = await loadBackbone(request.backbonePath);
    embeddings = await computeEmbeddings(backbone, files, { cacheDir: request.cacheDir, augment: false });
    embeddingDim = backbone.featureDim;
  }
  const { samples, skipped } = await samplesFromFiles(request.modelPath, request.manifest, files, { embeddings, embeddingDim });
  if (samples.length === 0) throw new SkywatchError('DATA_EMPTY', `no readable images under ${request.dir}`);
  const result = compareWithBaseline(request.baseline, samples, request.thresholds);
  return { data: request.dir, model: request.manifest.version, files: samples.length, skipped, result, seconds: (performance.now() - t0) / 1000 };
}
