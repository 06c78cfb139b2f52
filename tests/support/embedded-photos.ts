import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { imageToTensor } from '../../inference/preprocess.js';
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

/** An exported model (backbone + heads) run by ONNX Runtime on these photographs as one batch. */
export async function runOnPhotos(onnx: Uint8Array, outputName: string, backbone: Backbone, files: ReadonlyArray<{ file: string }>): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const { height, width, name } = backbone.input;
  const per = 3 * height * width;
  const batch = new Float32Array(files.length * per);
  for (const [i, f] of files.entries()) batch.set(await imageToTensor(f.file, backbone.input), i * per);
  const session = await ort.InferenceSession.create(onnx);
  try {
    const out = await session.run({ [name]: new ort.Tensor('float32', batch, [files.length, 3, height, width]) });
    return { data: out[outputName].data as Float32Array, dims: out[outputName].dims };
  } finally {
    await session.release();
  }
}
