import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadBackbone, type Backbone } from '../../trainer/transfer/backbone.js';
import { computeEmbeddings } from '../../trainer/transfer/embeddings.js';

export const SQUEEZENET = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');
export const VALID_PHOTOS = path.resolve('../shared/data/images/valid');
/** Whether the shared backbone and photographs are beside the repository (tests skip without them). */
export const sharedPhotosPresent = existsSync(SQUEEZENET) && existsSync(VALID_PHOTOS);

/** The first `perLabel` photographs of each label of images/valid, with the backbone's features of each. */
export async function embeddedPhotos(perLabel: number): Promise<{ backbone: Backbone; files: Array<{ file: string; label: string }>; features: Float32Array }> {
  const files = ['bird', 'drone'].flatMap((l) => readdirSync(path.join(VALID_PHOTOS, l)).sort().slice(0, perLabel).map((f) => ({ file: path.join(VALID_PHOTOS, l, f), label: l })));
  const backbone = await loadBackbone(SQUEEZENET);
  const features = await computeEmbeddings(backbone, files.map((f) => f.file), { cacheDir: mkdtempSync(path.join(tmpdir(), 'sw-photos-emb-')), augment: false });
  return { backbone, files, features };
}
