import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { SkywatchError } from '../../core/errors.js';
import { sha256 } from '../../core/hash.js';
import type { ModelInput } from '../../core/model/manifest.js';
import { decodeImage, rgbToTensor } from '../../inference/preprocess.js';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { DataType, decodeModel, encodeModel, type Model, type OnnxNode } from '../onnx/onnx-proto.js';
import { quantiseBackbone } from './quantise-backbone.js';

/** A pretrained classifier cut before its classifier: a graph from an image to a feature vector. */
export interface Backbone {
  sha256: string;
  input: ModelInput;
  featureDim: number;
  /** The graph tensor the features are taken from (before pooling); several joined by `+`. */
  cutAt: string;
  /** Whether its convolutions run on 8-bit integers (BackboneOptions.quantise). */
  quantised: boolean;
  /** Names this cut (backbone and feature taps) in caches: embeddings of two cuts never mix. */
  cacheKey: string;
  /** The cut model: input `input` float32 [N,3,H,W], output `features` float32 [N, featureDim]. */
  model: Model;
  featureModel: Uint8Array;
}

export const FEATURES = 'features';
const INPUT = 'input';

/** Preprocessing can't be read from an ONNX file: known backbones by checksum, else torchvision's. */
const KNOWN: Record<string, Omit<ModelInput, 'name' | 'layout' | 'height' | 'width'>> = {
  // SqueezeNet 1.0 from Caffe2 (shared/data/backbones): BGR, mean-subtracted, not scaled.
  '21f25e3d9254af93e6218a359469fac714a017b3f9035c0f5c4acbf9a3ff7233': { channelOrder: 'BGR', mean: [104, 117, 124], std: [1, 1, 1] },
};
const TORCHVISION = { channelOrder: 'RGB' as const, mean: [123.675, 116.28, 103.53] as [number, number, number], std: [58.395, 57.12, 57.375] as [number, number, number] };
const CLASSIFIER_OPS = new Set(['Gemm', 'MatMul', 'Conv']);
const PASS_THROUGH = new Set(['Dropout', 'Identity']);

/** A feature map of the backbone, pooled over space to one value per channel. */
export interface FeatureTap {
  tensor: string;
  pool: 'mean' | 'max';
}

export interface BackboneOptions {
  /** Take features from this tensor instead of the classifier's input. */
  cutAt?: string;
  /**
   * Features from several taps instead, concatenated in order (e.g. a middle Fire module beside the
   * last: finer detail than the last layer alone). Each must be a 4-D tensor of the graph.
   */
  taps?: FeatureTap[];
  /** Taps name tensors of one backbone: true uses the default cut for a backbone that lacks one of them. */
  tapsIfPresent?: boolean;
  input?: Partial<Pick<ModelInput, 'channelOrder' | 'mean' | 'std'>>;
  /**
   * Square input size in pixels instead of the backbone's own (a fully convolutional backbone with a
   * global pool takes any size): fewer pixels cost less per image, for crops of small objects.
   */
  size?: number;
  /**
   * Run the convolutions on 8-bit integers (trainer/transfer/quantise-backbone.ts), their ranges
   * calibrated on these images (files, decoded and normalised as the model's inputs are). The features
   * differ slightly from float's, so they are cached apart, and a model must be trained on the features
   * of the backbone it is exported with.
   */
  quantise?: { images: readonly string[] };
}

/**
 * Cuts any ImageNet ONNX classifier before its classifier: the last Gemm/MatMul/Conv on the way to
 * the output is the classifier, and its input (behind any Dropout) is the feature tensor. 4-D
 * features are globally average-pooled; the batch dimension is made free; a float16 model gets a
 * float32 input and output with Casts around it.
 */
export async function loadBackbone(onnxPath: string, options: BackboneOptions = {}): Promise<Backbone> {
  let bytes: Buffer;
  try {
    bytes = await readFile(onnxPath);
  } catch (err) {
    throw new SkywatchError('MODEL_NOT_FOUND', `cannot read backbone ${onnxPath}: ${(err as Error).message}`);
  }
  const hash = sha256(bytes);
  let model: Model;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    throw new SkywatchError('MODEL_INVALID', `${onnxPath} is not an ONNX model: ${(err as Error).message}`);
  }
  const graph = model.graph;
  if (!graph?.node?.length || !graph.output?.length) throw new SkywatchError('MODEL_INVALID', `${onnxPath} has an empty graph`);
  const nodes = graph.node;
  const producer = new Map<string, OnnxNode>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const initNames = new Set((graph.initializer ?? []).map((t) => t.name!));

  let feature = options.cutAt;
  let classifier: OnnxNode | undefined;
  if (!feature) {
    let tensor = graph.output[0].name;
    while (producer.has(tensor)) {
      const n = producer.get(tensor)!;
      if (CLASSIFIER_OPS.has(n.opType)) {
        classifier = n;
        break;
      }
      tensor = (n.input ?? []).find((i) => !initNames.has(i)) ?? '';
    }
    if (!classifier) throw new SkywatchError('MODEL_INVALID', `${onnxPath}: no Gemm, MatMul or Conv classifier found before the output; pass cutAt`);
    feature = classifier.input![0];
    while (producer.has(feature) && PASS_THROUGH.has(producer.get(feature)!.opType)) feature = producer.get(feature)!.input![0];
  } else if (!producer.has(feature)) {
    throw new SkywatchError('MODEL_INVALID', `${onnxPath}: no tensor named ${feature}`);
  }
  let taps = options.taps ?? [];
  if (options.tapsIfPresent && taps.some((t) => !producer.has(t.tensor))) taps = [];
  for (const t of taps) if (!producer.has(t.tensor)) throw new SkywatchError('MODEL_INVALID', `${onnxPath}: no tensor named ${t.tensor}`);

  // Keep only what the feature tensors depend on.
  const needed = new Set<string>(taps.length ? taps.map((t) => t.tensor) : [feature]);
  const kept: OnnxNode[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if ((n.output ?? []).some((o) => needed.has(o))) {
      kept.unshift(n);
      for (const inp of n.input ?? []) if (inp) needed.add(inp);
    }
  }
  const imageInputs = (graph.input ?? []).filter((v) => !initNames.has(v.name));
  if (imageInputs.length !== 1) throw new SkywatchError('MODEL_INVALID', `${onnxPath}: expected one image input, found ${imageInputs.length}`);
  const image = imageInputs[0];
  const elemType = image.type?.tensorType?.elemType ?? DataType.FLOAT;
  const dims = image.type?.tensorType?.shape?.dim ?? [];
  const native = { height: Number(dims[2]?.dimValue ?? 224), width: Number(dims[3]?.dimValue ?? 224) };
  if (options.size !== undefined && !(Number.isInteger(options.size) && options.size >= 32 && options.size <= 1024)) throw new SkywatchError('CONFIG_INVALID', `backbone input size ${options.size} is not a whole number of pixels in 32..1024`);
  const height = options.size ?? native.height;
  const width = options.size ?? native.width;
  if (elemType !== DataType.FLOAT && elemType !== DataType.FLOAT16) throw new SkywatchError('MODEL_INVALID', `${onnxPath}: input type ${elemType} is not float or float16`);

  graph.node = kept;
  graph.initializer = (graph.initializer ?? []).filter((t) => needed.has(t.name!));
  // IR >= 4 lets initialisers stay out of the input list, so new weights need no input entries.
  graph.input = [];
  graph.output = [];
  graph.valueInfo = [];
  model.irVersion = Math.max(Number(model.irVersion ?? 4), 4);

  const b = new GraphBuilder(graph, 'sw_bb_');
  b.input(INPUT, DataType.FLOAT, ['N', 3, height, width]);
  if (elemType === DataType.FLOAT16) b.node('Cast', [INPUT], { to: DataType.FLOAT16 }, image.name);
  else for (const n of kept) n.input = (n.input ?? []).map((i) => (i === image.name ? INPUT : i));
  let x = feature;
  const rank4 = classifier ? classifier.opType === 'Conv' : true;
  if (taps.length) {
    const pooled = taps.map((t) => b.node('Flatten', [b.node(t.pool === 'max' ? 'GlobalMaxPool' : 'GlobalAveragePool', [t.tensor])], { axis: 1 }));
    x = pooled.length === 1 ? pooled[0] : b.node('Concat', pooled, { axis: 1 });
  } else if (rank4) x = b.node('Flatten', [b.node('GlobalAveragePool', [x])], { axis: 1 });
  if (elemType === DataType.FLOAT16) b.node('Cast', [x], { to: DataType.FLOAT }, FEATURES);
  else b.node('Identity', [x], {}, FEATURES);
  b.output(FEATURES, DataType.FLOAT, ['N', 'D']);

  const known = KNOWN[hash] ?? TORCHVISION;
  const input: ModelInput = { name: INPUT, layout: 'NCHW', height, width, ...known, ...options.input } as ModelInput;
  let quantisedAs = '';
  if (options.quantise) {
    const calibration = await Promise.all(options.quantise.images.map(async (file) => rgbToTensor((await decodeImage(file, width, height)).rgb, input)));
    const quantised = await quantiseBackbone(model, { input: INPUT, calibration, height, width });
    model = quantised.model;
    quantisedAs = `-q8-${quantised.digest}`;
  }
  const featureModel = encodeModel(model);
  const featureDim = await probeFeatureDim(featureModel, height, width);
  const cutAt = taps.length ? taps.map((t) => `${t.pool}(${t.tensor})`).join('+') : feature;
  // Features differ with the tensor they are cut from and with the input size: each has its own cache.
  const resized = height !== native.height || width !== native.width ? `-${width}x${height}` : '';
  const cacheKey = `${taps.length ? `${hash.slice(0, 16)}-${sha256(Buffer.from(cutAt)).slice(0, 8)}` : hash.slice(0, 16)}${resized}${quantisedAs}`;
  return { sha256: hash, input, featureDim, cutAt, quantised: quantisedAs !== '', cacheKey, model, featureModel };
}

async function probeFeatureDim(bytes: Uint8Array, height: number, width: number): Promise<number> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ [INPUT]: new ort.Tensor('float32', new Float32Array(2 * 3 * height * width), [2, 3, height, width]) });
    const dims = out[FEATURES].dims;
    if (dims.length !== 2 || dims[0] !== 2) throw new SkywatchError('MODEL_INVALID', `cut backbone gives features of shape [${dims.join(',')}]`);
    return dims[1];
  } finally {
    await session.release();
  }
}
