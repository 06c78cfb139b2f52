import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { SkywatchError } from '../../core/errors.js';
import { photoManifest } from '../../core/model/manifest.js';
import { readLocalModel } from '../../core/model/registry.js';
import { OnnxModel } from '../../inference/onnx-model.js';
import { imageToTensor } from '../../inference/preprocess.js';
import { printResult, type CliContext } from '../context.js';
import { openRegistry, withRegistryOption } from './registry-option.js';
import { CLIP_FILE, formatClipAnswers, predictClipFiles } from './predict-clip.js';
import type { BatchResult } from '../../inference/micro-batcher.js';
import { combinePhotoAnswer } from '../../inference/photo-answer.js';

interface Answer {
  file: string;
  label?: string;
  confidence?: number;
  scores?: Record<string, number>;
  modelVersion?: string;
  error?: { code: string; message: string };
}

async function viaServer(server: string, token: string | undefined, files: string[]): Promise<Answer[]> {
  return Promise.all(files.map(async (file) => {
    const res = await fetch(new URL('/v1/predict', server), {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: new Uint8Array(await readFile(file)),
    }).catch((err: Error) => {
      throw new SkywatchError('DEPENDENCY_UNAVAILABLE', `cannot reach ${server}: ${err.message}`);
    });
    const body = (await res.json()) as Answer & { error?: { code: string; message: string } };
    return { ...body, file };
  }));
}

export function registerPredictCommand(program: Command, ctx: CliContext): void {
  withRegistryOption(program.command('predict'))
    .summary('classify images, or run clips through the camera pipeline, locally or against a running server')
    .argument('<files...>', 'image files (JPEG, PNG, WebP), or clips (MP4, WebM, MOV, or .npz with frames [T,H,W,3] uint8)')
    .option('--fps <n>', 'clips: frames per second sampled (.npz: the rate its frames were taken at); default the model\'s', (v) => Number(v))
    .option('--server <url>', 'ask a running Skywatch API instead of loading the model here')
    .option('--token <token>', 'API token for --server (or SKYWATCH_TOKEN)')
    .option('--model <version|latest|file.onnx>', 'model to load locally', 'latest')
    .option('--json', 'one JSON document on stdout')
    .action(async (files: string[], opts: { server?: string; token?: string; model: string; registry?: string; json?: boolean; fps?: number }) => {
      const clips = files.filter((f) => CLIP_FILE.test(f));
      const images = files.filter((f) => !CLIP_FILE.test(f));
      if (clips.length > 0) {
        if (images.length > 0) throw new SkywatchError('BAD_REQUEST', 'give either images or clips, not both in one call');
        if (opts.fps !== undefined && !(opts.fps >= 0.5 && opts.fps <= 30)) throw new SkywatchError('BAD_REQUEST', '--fps must be from 0.5 to 30');
        const answers = await predictClipFiles(ctx, clips, { ...opts, token: opts.token ?? process.env.SKYWATCH_TOKEN });
        printResult(!!opts.json, { clips: answers }, () => formatClipAnswers(answers));
        if (answers.some((a) => 'error' in a)) process.exitCode = 1;
        return;
      }
      let answers: Answer[];
      if (opts.server) answers = await viaServer(opts.server, opts.token ?? process.env.SKYWATCH_TOKEN, images);
      else {
        const config = ctx.config();
        const fetched = opts.model.endsWith('.onnx')
          ? await readLocalModel(path.resolve(opts.model))
          : await (await openRegistry(ctx, opts.registry)).fetch(opts.model, path.join(config.stateDir, 'cache', 'models'));
        // Photographs get the version's photo model beside its crop model when it has one (checksum-checked
        // above), combined as /v1/predict combines them (inference/photo-answer.ts).
        const { manifest } = fetched;
        const photoSpec = photoManifest(manifest);
        const threads = { intraOpThreads: config.inference.intraOpThreads };
        const model = await OnnxModel.load(fetched.modelPath, manifest, threads);
        const photo = photoSpec && manifest.photo ? await OnnxModel.load(path.join(path.dirname(fetched.modelPath), manifest.photo.file), photoSpec, threads) : null;
        const run = async (m: OnnxModel, spec: typeof manifest, tensor: Float32Array): Promise<BatchResult> => {
          const probs = await m.run(tensor, 1);
          return { probs: Float32Array.from(probs), labels: spec.labels, modelVersion: manifest.version, queueMs: 0, inferMs: 0, batchSize: 1 };
        };
        // One decode when the photo model takes the crop model's input (they share the backbone).
        const sameInput = photoSpec !== null && JSON.stringify(photoSpec.input) === JSON.stringify(manifest.input);
        answers = [];
        for (const file of images) {
          try {
            const image = await readFile(file);
            const tensor = await imageToTensor(image, manifest.input, { maxPixels: config.api.maxPixels });
            const crop = await run(model, manifest, tensor);
            const photoTensor = async (spec: typeof manifest) => (sameInput ? tensor : imageToTensor(image, spec.input, { maxPixels: config.api.maxPixels }));
            const result = photo && photoSpec ? combinePhotoAnswer(crop, await run(photo, photoSpec, await photoTensor(photoSpec)), manifest.photo?.gate) : crop;
            const scores = Object.fromEntries(result.labels.map((l, i) => [l, result.probs[i]]));
            const best = result.labels.reduce((a, b) => (scores[b] > scores[a] ? b : a));
            answers.push({ file, label: best, confidence: scores[best], scores, modelVersion: manifest.version });
          } catch (err) {
            const e = err as SkywatchError;
            answers.push({ file, error: { code: e.code ?? 'IMAGE_INVALID', message: e.message } });
          }
        }
        await model.release();
        await photo?.release();
      }
      printResult(!!opts.json, { predictions: answers }, () => answers.map((a) => (a.error ? `${a.file}: error ${a.error.code}: ${a.error.message}` : `${a.file}: ${a.label} ${((a.confidence ?? 0) * 100).toFixed(1)}% (model ${a.modelVersion})`)).join('\n'));
      if (answers.some((a) => a.error)) process.exitCode = 1;
    });
}
