import * as ort from 'onnxruntime-node';
import { SkywatchError } from '../../core/errors.js';
import { sha256 } from '../../core/hash.js';
import { halfToFloat } from '../../inference/onnx-model.js';
import { floatTensor } from '../onnx/graph-builder.js';
import { DataType, encodeModel, type Model, type OnnxNode, type Tensor } from '../onnx/onnx-proto.js';

/**
 * A cut backbone with 8-bit convolutions, in ONNX's QDQ form: every Conv reads its input through a
 * QuantizeLinear/DequantizeLinear pair (unsigned 8 bits a tensor, ranges calibrated on real inputs) and
 * its weights through a DequantizeLinear of signed 7-bit values (a scale an output channel), and every
 * Relu's output is quantised with zero point 0. ONNX Runtime folds each such Conv (with its Relu)
 * into a QLinearConv and each Concat of quantised tensors into a QLinearConcat, so the convolutions
 * run on integers (docs/BENCHMARKS.md has the cost and the features' agreement with float). Weights keep 7 bits because on CPUs without VNNI the 8-bit kernels
 * add pairs of products in 16 bits, which 8-bit weights saturate (features at a cosine of 0.971 to
 * float's instead of 0.997 on photographs).
 *
 * The ranges come from `calibration` (preprocessed NCHW images of what the model will see): all but
 * the outermost values each quantised tensor takes on them (`percentile`). No labels are involved.
 */
export interface QuantiseInput {
  /** Name of the model's float input. */
  input: string;
  /** Preprocessed images, each [3, height, width] in the model's own normalisation. */
  calibration: readonly Float32Array[];
  height: number;
  width: number;
  /**
   * The share of each tensor's calibration values inside its range (1: from the smallest to the
   * largest); the rest saturate, in exchange for finer steps for the many values in between.
   */
  percentile?: number;
}

const WEIGHT_BITS = 7;
const CALIBRATION_BATCH = 8;
/** Values kept of each tensor over the calibration, for its range. */
const SAMPLES = 400_000;
/**
 * Ranges cover all but the outermost 1e-5 of the values: on 200 clip crops the features' cosine to
 * float's rose from 0.9937 (0.944 at worst) with the full range to 0.9968 (0.988); at 1e-4 the worst
 * fell again (0.964), at 1e-3 everything did (0.982). (Measured before max pools shared their input's
 * scale; with that, 0.9971 and 0.990.)
 */
const DEFAULT_PERCENTILE = 0.99999;
const OPSET = 13;
const INT32_LIMIT = 2 ** 31 - 1;

export interface QuantisedModel {
  model: Model;
  /** Names the quantised graph (its ranges and its structure): embeddings of two digests never mix. */
  digest: string;
}

export async function quantiseBackbone(source: Model, options: QuantiseInput): Promise<QuantisedModel> {
  if (options.calibration.length === 0) throw new SkywatchError('DATA_INVALID', 'quantising a backbone needs at least one calibration image');
  const model = toFloat32(source);
  const graph = model.graph!;
  const initialisers = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const nodes = graph.node ?? [];
  const convInputs = nodes.filter((n) => n.opType === 'Conv').map((n) => n.input![0]);
  const reluOutputs = new Set(nodes.filter((n) => n.opType === 'Relu').map((n) => n.output![0]));
  const ranges = await calibrate(model, [...new Set([...convInputs, ...reluOutputs])], options);

  const added: Tensor[] = [];
  const out: OnnxNode[] = [];
  // Each quantised tensor by the name of its dequantised copy (`${tensor}_dq`), which is what readers see.
  const quantised = new Map<string, { name: string; scale: number; params: [string, string] }>();
  const producer = new Map<string, OnnxNode>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  /** Quantises `tensor` (u8, one scale) once and returns the dequantised name and its scale. */
  const quantise = (tensor: string): { name: string; scale: number } => {
    const known = quantised.get(`${tensor}_dq`);
    if (known) return known;
    // A max pool keeps its input's values, so its output keeps its input's scale: ONNX Runtime then
    // pools the 8-bit tensor itself (with another scale it pools in float, between two conversions).
    const made = producer.get(tensor);
    const same = made?.opType === 'MaxPool' ? quantised.get(made.input?.[0] ?? '') : undefined;
    let scale: number;
    let params: [string, string];
    if (same) {
      scale = same.scale;
      params = same.params;
    } else {
      const { min, max } = ranges.get(tensor)!;
      const lo = Math.min(0, min);
      scale = (Math.max(0, max) - lo) / 255 || 1;
      const zero = Math.min(255, Math.max(0, Math.round(-lo / scale)));
      params = [`${tensor}_qscale`, `${tensor}_qzero`];
      added.push(floatTensor(params[0], [], [scale]), { name: params[1], dims: [], dataType: DataType.UINT8, rawData: Uint8Array.of(zero) });
    }
    out.push({ opType: 'QuantizeLinear', input: [tensor, ...params], output: [`${tensor}_q`] });
    out.push({ opType: 'DequantizeLinear', input: [`${tensor}_q`, ...params], output: [`${tensor}_dq`] });
    const q = { name: `${tensor}_dq`, scale, params };
    quantised.set(q.name, q);
    return q;
  };
  const readers = new Map<string, string>();
  for (const node of nodes) {
    if (node.opType === 'Conv') {
      const [x, w, b] = node.input ?? [];
      const q = quantise(x);
      const weights = initialisers.get(w);
      if (!weights) throw new SkywatchError('MODEL_INVALID', `Conv ${node.name ?? ''} has weights ${w} that are not a constant`);
      const { name: wq, scales } = quantiseWeights(weights, added, out);
      const inputs = [q.name, wq];
      if (b) inputs.push(quantiseBias(initialisers.get(b), b, scales, q.scale, added, out));
      out.push({ ...node, input: inputs });
      continue;
    }
    node.input = (node.input ?? []).map((i) => readers.get(i) ?? i);
    out.push(node);
    if (node.opType === 'Relu') {
      // Quantised where it is made (zero point 0, so the Relu folds into the Conv before it), and every
      // reader takes the dequantised tensor; a Conv reading it reuses the pair.
      const y = node.output![0];
      readers.set(y, quantise(y).name);
    }
  }
  graph.node = out;
  // The float weights are now read through their quantised copies only: they leave the file.
  const read = new Set(out.flatMap((n) => n.input ?? []));
  graph.initializer = [...(graph.initializer ?? []), ...added].filter((t) => read.has(t.name!));
  // Per-channel DequantizeLinear needs opset 13; other domains the model imports stay as they are.
  const others = (model.opsetImport ?? []).filter((o) => o.domain);
  const own = (model.opsetImport ?? []).filter((o) => !o.domain).map((o) => Number(o.version ?? 0));
  model.opsetImport = [{ domain: '', version: Math.max(OPSET, ...own) }, ...others];
  // The whole quantised graph, not only the ranges: a change in how it is built is other features.
  const digest = sha256(Buffer.from(encodeModel(model))).slice(0, 12);
  return { model, digest };

  function quantiseWeights(t: Tensor, into: Tensor[], nodesOut: OnnxNode[]): { name: string; scales: Float32Array } {
    const values = floats(t);
    const channels = Number(t.dims![0]);
    const per = values.length / channels;
    const limit = 2 ** (WEIGHT_BITS - 1) - 1;
    const scales = new Float32Array(channels);
    const q = new Int8Array(values.length);
    for (let c = 0; c < channels; c++) {
      let m = 0;
      for (let i = c * per; i < (c + 1) * per; i++) m = Math.max(m, Math.abs(values[i]));
      const s = m / limit || 1;
      scales[c] = s;
      for (let i = c * per; i < (c + 1) * per; i++) q[i] = Math.round(values[i] / s);
    }
    const name = t.name!;
    into.push({ name: `${name}_q`, dims: t.dims, dataType: DataType.INT8, rawData: new Uint8Array(q.buffer) }, floatTensor(`${name}_qscale`, [channels], scales), { name: `${name}_qzero`, dims: [channels], dataType: DataType.INT8, rawData: new Uint8Array(channels) });
    nodesOut.push({ opType: 'DequantizeLinear', input: [`${name}_q`, `${name}_qscale`, `${name}_qzero`], output: [`${name}_dq`], attribute: [{ name: 'axis', type: 2, i: 0 }] });
    return { name: `${name}_dq`, scales };
  }

  function quantiseBias(t: Tensor | undefined, name: string, weightScales: Float32Array, inputScale: number, into: Tensor[], nodesOut: OnnxNode[]): string {
    if (!t) throw new SkywatchError('MODEL_INVALID', `Conv bias ${name} is not a constant`);
    const values = floats(t);
    // The integer convolution adds the bias in its accumulator's units: input scale x weight scale.
    const scales = Float32Array.from(weightScales, (s) => s * inputScale);
    // Clamped: a channel whose input range is tiny could otherwise wrap around the 32-bit accumulator.
    const q = Int32Array.from(values, (v, i) => Math.max(-INT32_LIMIT, Math.min(INT32_LIMIT, Math.round(v / scales[i]))));
    into.push({ name: `${name}_q`, dims: [q.length], dataType: DataType.INT32, rawData: new Uint8Array(q.buffer) }, floatTensor(`${name}_qscale`, [q.length], scales), { name: `${name}_qzero`, dims: [q.length], dataType: DataType.INT32, rawData: new Uint8Array(q.length * 4) });
    nodesOut.push({ opType: 'DequantizeLinear', input: [`${name}_q`, `${name}_qscale`, `${name}_qzero`], output: [`${name}_dq`], attribute: [{ name: 'axis', type: 2, i: 0 }] });
    return `${name}_dq`;
  }
}

/** The smallest and largest value of each tensor over the calibration images. */
async function calibrate(model: Model, tensors: string[], options: QuantiseInput): Promise<Map<string, { min: number; max: number }>> {
  const probe = structuredClone(model);
  for (const name of tensors) probe.graph!.output!.push({ name, type: { tensorType: { elemType: DataType.FLOAT } } });
  const session = await ort.InferenceSession.create(encodeModel(probe), { intraOpNumThreads: 2 });
  const samples = new Map(tensors.map((t) => [t, [] as Float32Array[]]));
  const per = 3 * options.height * options.width;
  const batches = Math.ceil(options.calibration.length / CALIBRATION_BATCH);
  try {
    for (let start = 0; start < options.calibration.length; start += CALIBRATION_BATCH) {
      const chunk = options.calibration.slice(start, start + CALIBRATION_BATCH);
      const batch = new Float32Array(chunk.length * per);
      chunk.forEach((image, i) => {
        if (image.length !== per) throw new SkywatchError('DATA_INVALID', `calibration image ${start + i} has ${image.length} values, expected ${per}`);
        batch.set(image, i * per);
      });
      const result = await session.run({ [options.input]: new ort.Tensor('float32', batch, [chunk.length, 3, options.height, options.width]) });
      for (const name of tensors) {
        const data = result[name].data as Float32Array;
        // An even sample of every tensor's values, about SAMPLES in all over the calibration.
        const stride = Math.max(1, Math.floor((data.length * batches) / SAMPLES));
        const kept = new Float32Array(Math.ceil(data.length / stride));
        for (let i = 0, k = 0; i < data.length; i += stride, k++) kept[k] = data[i];
        samples.get(name)!.push(kept);
      }
    }
  } finally {
    await session.release();
  }
  const q = options.percentile ?? DEFAULT_PERCENTILE;
  const ranges = new Map<string, { min: number; max: number }>();
  for (const [name, parts] of samples) {
    const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    all.sort();
    const pick = (f: number) => all[Math.min(all.length - 1, Math.max(0, Math.round(f * (all.length - 1))))];
    ranges.set(name, { min: pick(1 - q), max: pick(q) });
  }
  return ranges;
}

/**
 * The same graph computing in float32: float16 weights widened, Casts removed (a cut float16 backbone
 * casts its input to float16 and its features back; QDQ quantisation needs float tensors).
 */
function toFloat32(source: Model): Model {
  const model = structuredClone(source);
  const graph = model.graph!;
  for (const t of graph.initializer ?? []) {
    if (t.dataType !== DataType.FLOAT16) continue;
    const values = floats(t);
    t.dataType = DataType.FLOAT;
    t.rawData = new Uint8Array(values.buffer);
    t.int32Data = undefined;
  }
  const alias = new Map<string, string>();
  const outputs = new Set((graph.output ?? []).map((o) => o.name));
  const kept: OnnxNode[] = [];
  for (const n of graph.node ?? []) {
    const to = n.attribute?.find((a) => a.name === 'to')?.i;
    if (n.opType === 'Cast' && (to === DataType.FLOAT16 || to === DataType.FLOAT)) alias.set(n.output![0], n.input![0]);
    else kept.push(n);
  }
  const resolve = (name: string): string => {
    let x = name;
    while (alias.has(x)) x = alias.get(x)!;
    return x;
  };
  for (const n of kept) n.input = (n.input ?? []).map(resolve);
  // A graph output made by a removed Cast keeps its name through an Identity.
  for (const name of outputs) if (alias.has(name)) kept.push({ opType: 'Identity', input: [resolve(name)], output: [name] });
  graph.node = kept;
  return model;
}

function floats(t: Tensor): Float32Array {
  if (t.dataType === DataType.FLOAT) {
    if (t.rawData) return new Float32Array(t.rawData.slice().buffer);
    return Float32Array.from(t.floatData ?? []);
  }
  if (t.dataType === DataType.FLOAT16) {
    const halves = t.rawData ? new Uint16Array(t.rawData.slice().buffer) : Uint16Array.from(t.int32Data ?? []);
    return Float32Array.from(halves, halfToFloat);
  }
  throw new SkywatchError('MODEL_INVALID', `tensor ${t.name ?? ''} of type ${t.dataType} cannot be quantised`);
}
