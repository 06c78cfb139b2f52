import type * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';
import type { GraphBuilder } from './graph-builder.js';

type Layer = tf.layers.Layer;
type Config = Record<string, unknown>;

/** The tfjs layer types the exporter understands; anything else is refused by name. */
export const SUPPORTED_LAYERS = ['Conv2D', 'DepthwiseConv2D', 'BatchNormalization', 'ReLU', 'Activation', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'Flatten', 'Dropout', 'Dense', 'InputLayer'];

function weights(layer: Layer): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => {
    const key = w.originalName.split('/').pop()!;
    out.set(key, { shape: values[i].shape, data: values[i].dataSync() as Float32Array });
  });
  return out;
}

function need(map: Map<string, { shape: number[]; data: Float32Array }>, key: string, layer: Layer) {
  const w = map.get(key);
  if (!w) throw new SkywatchError('MODEL_INVALID', `layer ${layer.name}: weight ${key} missing`);
  return w;
}

/** tfjs [kh, kw, in, out] kernel as ONNX [out, in, kh, kw]. */
function convKernel(k: { shape: number[]; data: Float32Array }): { dims: number[]; data: Float32Array } {
  const [kh, kw, cin, cout] = k.shape;
  const out = new Float32Array(k.data.length);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < cin; c++) for (let o = 0; o < cout; o++) {
    out[((o * cin + c) * kh + i) * kw + j] = k.data[((i * kw + j) * cin + c) * cout + o];
  }
  return { dims: [cout, cin, kh, kw], data: out };
}

/** tfjs depthwise [kh, kw, in, mult] as a grouped ONNX kernel [in*mult, 1, kh, kw] (channel c*mult+m). */
function depthwiseKernel(k: { shape: number[]; data: Float32Array }): { dims: number[]; data: Float32Array } {
  const [kh, kw, cin, mult] = k.shape;
  const out = new Float32Array(k.data.length);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < cin; c++) for (let m = 0; m < mult; m++) {
    out[((c * mult + m) * kh + i) * kw + j] = k.data[((i * kw + j) * cin + c) * mult + m];
  }
  return { dims: [cin * mult, 1, kh, kw], data: out };
}

function pair(v: unknown, fallback: number): [number, number] {
  if (Array.isArray(v)) return [Number(v[0]), Number(v[1] ?? v[0])];
  if (typeof v === 'number') return [v, v];
  return [fallback, fallback];
}

function padAttrs(config: Config): Record<string, string | number[]> {
  return config.padding === 'same' ? { auto_pad: 'SAME_UPPER' } : { pads: [0, 0, 0, 0] };
}

function activation(b: GraphBuilder, x: string, name: unknown, layer: Layer, output?: string): string {
  switch (name ?? 'linear') {
    case 'linear':
      return output ? b.node('Identity', [x], {}, output) : x;
    case 'relu':
      return b.node('Relu', [x], {}, output);
    case 'relu6':
      return b.node('Clip', [x, b.initializer('zero', [], [0]), b.initializer('six', [], [6])], {}, output);
    case 'sigmoid':
      return b.node('Sigmoid', [x], {}, output);
    case 'tanh':
      return b.node('Tanh', [x], {}, output);
    case 'softmax':
      return b.node('Softmax', [x], { axis: 1 }, output);
    default:
      throw new SkywatchError('MODEL_INVALID', `layer ${layer.name}: activation ${String(name)} is not exportable`);
  }
}

/**
 * Appends a chain of tfjs layers to an ONNX graph. `x` is NCHW while the tensor is 4-D (the tfjs model
 * is NHWC: kernels are transposed, and Flatten transposes back to NHWC first so the dense weights line
 * up); after pooling or flattening it is [N, features]. The last layer's output gets `outputName`.
 * Opset 7 and up: only operators and attributes that exist since then are used.
 */
export function appendLayers(b: GraphBuilder, layers: Layer[], x: string, outputName: string): string {
  const chain = layers.filter((l) => l.getClassName() !== 'InputLayer');
  chain.forEach((layer, index) => {
    const last = index === chain.length - 1;
    const out = last ? outputName : undefined;
    const kind = layer.getClassName();
    const config = layer.getConfig() as Config;
    const w = weights(layer);
    switch (kind) {
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const depthwise = kind === 'DepthwiseConv2D';
        const k = depthwise ? depthwiseKernel(need(w, 'depthwise_kernel', layer)) : convKernel(need(w, 'kernel', layer));
        const inputs = [x, b.initializer(`${layer.name}_w`, k.dims, k.data)];
        if (w.has('bias')) inputs.push(b.initializer(`${layer.name}_b`, need(w, 'bias', layer).shape, need(w, 'bias', layer).data));
        const dilations = pair(config.dilationRate, 1);
        const attrs: Record<string, string | number | number[]> = { kernel_shape: k.dims.slice(2), strides: pair(config.strides, 1), dilations, ...padAttrs(config) };
        if (depthwise) attrs.group = k.dims[0] / Number((config.depthMultiplier as number) ?? 1);
        const y = b.node('Conv', inputs, attrs);
        x = activation(b, y, config.activation, layer, out);
        break;
      }
      case 'BatchNormalization': {
        const channels = need(w, 'moving_mean', layer).shape[0];
        const ones = new Float32Array(channels).fill(1);
        const zeros = new Float32Array(channels);
        x = b.node('BatchNormalization', [
          x,
          b.initializer(`${layer.name}_gamma`, [channels], w.get('gamma')?.data ?? ones),
          b.initializer(`${layer.name}_beta`, [channels], w.get('beta')?.data ?? zeros),
          b.initializer(`${layer.name}_mean`, [channels], need(w, 'moving_mean', layer).data),
          b.initializer(`${layer.name}_var`, [channels], need(w, 'moving_variance', layer).data),
        ], { epsilon: { float: Number(config.epsilon ?? 1e-3) } }, out);
        break;
      }
      case 'ReLU': {
        const max = config.maxValue as number | null | undefined;
        x = max == null ? b.node('Relu', [x], {}, out) : b.node('Clip', [x, b.initializer('zero', [], [0]), b.initializer('max', [], [max])], {}, out);
        break;
      }
      case 'Activation':
        x = activation(b, x, config.activation, layer, out);
        break;
      case 'MaxPooling2D':
      case 'AveragePooling2D':
        x = b.node(kind === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x], { kernel_shape: pair(config.poolSize, 2), strides: pair(config.strides ?? config.poolSize, 2), ...padAttrs(config) }, out);
        break;
      case 'GlobalAveragePooling2D':
        x = b.node('Flatten', [b.node('GlobalAveragePool', [x])], { axis: 1 }, out);
        break;
      case 'Flatten':
        x = b.node('Flatten', [b.node('Transpose', [x], { perm: [0, 2, 3, 1] })], { axis: 1 }, out);
        break;
      case 'Dropout':
        x = out ? b.node('Identity', [x], {}, out) : x;
        break;
      case 'Dense': {
        const kernel = need(w, 'kernel', layer);
        const units = kernel.shape[1];
        const bias = w.get('bias')?.data ?? new Float32Array(units);
        const y = b.node('Gemm', [x, b.initializer(`${layer.name}_w`, kernel.shape, kernel.data), b.initializer(`${layer.name}_b`, [units], bias)], { transB: 0 });
        x = activation(b, y, config.activation, layer, out);
        break;
      }
      default:
        throw new SkywatchError('MODEL_INVALID', `layer ${layer.name} (${kind}) cannot be exported to ONNX; supported: ${SUPPORTED_LAYERS.join(', ')}`);
    }
  });
  return x;
}
