import type { ModelManifest } from '../core/model/manifest.js';
import { loadBackbone } from '../trainer/transfer/backbone.js';
import { computeEmbeddings } from '../trainer/transfer/embeddings.js';
import { buildDriftBaseline, type DriftBaseline } from './drift-baseline.js';
import { samplesFromFiles } from './samples-from-files.js';

/** At most this many images go into a baseline: deciles and a 200-point sketch need no more. */
export const BASELINE_MAX_FILES = 600;

/**
 * The drift baseline of a freshly trained model: the held-out images (validation and test splits,
 * which the model did not fit) as the exported model scores them, plus their backbone embeddings in
 * transfer mode (cached from training where they exist).
 */
export async function trainingDriftBaseline(request: { modelPath: string; manifest: ModelManifest; files: string[]; source: string; backbonePath?: string; cacheDir: string; signal?: AbortSignal }): Promise<DriftBaseline> {
  const step = Math.max(1, Math.ceil(request.files.length / BASELINE_MAX_FILES));
  const files = request.files.filter((_, i) => i % step === 0);
  let embeddings: Float32Array | undefined;
  let embeddingDim: number | undefined;
  if (request.backbonePath) {
    const backbone = await loadBackbone(request.backbonePath);
    embeddings = await computeEmbeddings(backbone, files, { cacheDir: request.cacheDir, augment: false, signal: request.signal });
    embeddingDim = backbone.featureDim;
  }
  const { samples } = await samplesFromFiles(request.modelPath, request.manifest, files, { embeddings, embeddingDim, signal: request.signal });
  return buildDriftBaseline(samples, { model: request.manifest.version, source: request.source, labels: request.manifest.labels });
}
