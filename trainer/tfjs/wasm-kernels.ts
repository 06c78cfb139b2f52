import * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';

/**
 * Convolution gradient kernels for the wasm backend of tfjs 4.22, so a CNN trains on it:
 *
 * - Conv2DBackpropFilter and DepthwiseConv2dNativeBackpropFilter: missing on wasm (the filter
 *   gradients of every convolution).
 * - DepthwiseConv2dNativeBackpropInput: missing too (the input gradient of a depthwise convolution
 *   that is not the first layer). The other kernels a conv/BN/ReLU/pool/dense step reaches
 *   (MaxPoolGrad, FusedBatchNorm, BatchMatMul, ...) ship with wasm.
 * - Conv2DBackpropInput: shipped, but a plain loop about 10x slower than the forward Conv2D kernel
 *   (XNNPACK) it is replaced by here.
 *
 * Each is rewritten as forward convolutions and data movement that wasm runs natively. A kernel wraps
 * its inputs as tensors and composes tf ops inside a tidy; the engine turns the gradient tape off
 * while a kernel runs, so none of this is recorded.
 */

type ConvInfo = tf.backend_util.Conv2DInfo;
type Rank4 = tf.Tensor4D;
type Shape4 = [number, number, number, number];

/** Call inside the kernel's tidy, so a wrapper made here is released with the scope. */
function asTensor(info: tf.TensorInfo): tf.Tensor {
  // Inputs arrive as Tensors from ops and as bare TensorInfos from other kernels.
  if ((info as tf.Tensor).rank !== undefined) return info as tf.Tensor;
  return tf.engine().makeTensorFromTensorInfo(info);
}

function nhwcOnly(dataFormat: unknown, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new SkywatchError('INTERNAL', `${kernel} on wasm supports NHWC only, got ${String(dataFormat)}`);
  }
}

function padInput(x: Rank4, info: ConvInfo): Rank4 {
  const { top, bottom, left, right } = info.padInfo;
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  return tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]);
}

/**
 * Copies the input window each filter tap reads: one [batch, outH, outW, inC] slice per tap, in
 * (kh, kw) order.
 */
function tapSlices(xPadded: Rank4, info: ConvInfo): Rank4[] {
  const slices: Rank4[] = [];
  const { filterHeight, filterWidth, dilationHeight, dilationWidth, strideHeight, strideWidth, outHeight, outWidth, inChannels } = info;
  const batch = xPadded.shape[0];
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const top = kh * dilationHeight;
      const left = kw * dilationWidth;
      slices.push(tf.stridedSlice(
        xPadded,
        [0, top, left, 0],
        [batch, top + (outHeight - 1) * strideHeight + 1, left + (outWidth - 1) * strideWidth + 1, inChannels],
        [1, strideHeight, strideWidth, 1],
      ) as Rank4);
    }
  }
  return slices;
}

/**
 * dW[kh,kw,ci,co] = sum over n, oh, ow of xPadded[n, oh*s+kh, ow*s+kw, ci] * dy[n, oh, ow, co], which
 * is itself a forward convolution: the padded input with batch and channels swapped ([ci, H, W, n])
 * correlated with dy as the filter ([oh, ow, n, co]) at dilation s. The forward Conv2D kernel runs on
 * XNNPACK and measured 3-10x faster here than patches + a transposed BatchMatMul.
 */
function conv2dFilterGrad(x: Rank4, dy: Rank4, info: ConvInfo): tf.Tensor4D {
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const swapped = padInput(x, info).transpose([3, 1, 2, 0]) as Rank4;
  const dyAsFilter = dy.transpose([1, 2, 0, 3]) as Rank4;
  const full = tf.conv2d(swapped, dyAsFilter, 1, 'valid', 'NHWC', [strideHeight, strideWidth]);
  // The correlation covers every offset the padded input allows; a filter tap only exists for the first kh x kw.
  const taps = full.shape[1] === filterHeight && full.shape[2] === filterWidth ? full : full.slice([0, 0, 0, 0], [-1, filterHeight, filterWidth, -1]);
  return taps.transpose([1, 2, 0, 3]);
}

/**
 * Input gradients of both convolutions are a stride-1 correlation of dy (zeros inserted between rows
 * and columns for strides > 1, then padded so the output has the input's size) with the filter
 * rotated by 180 degrees. Spreads dy and pads it for that correlation.
 */
function spreadForInputGrad(dy: Rank4, inShape: Shape4, info: ConvInfo): Rank4 {
  const { filterHeight, filterWidth, dilationHeight, dilationWidth, strideHeight, strideWidth } = info;
  const [batch, height, width] = inShape;
  let grads: Rank4 = dy;
  if (strideHeight > 1 || strideWidth > 1) {
    const [, oh, ow, c] = dy.shape;
    grads = dy
      .reshape([batch, oh, 1, ow, 1, c])
      .pad([[0, 0], [0, 0], [0, strideHeight - 1], [0, 0], [0, strideWidth - 1], [0, 0]])
      .reshape([batch, oh * strideHeight, ow * strideWidth, c])
      .slice([0, 0, 0, 0], [batch, (oh - 1) * strideHeight + 1, (ow - 1) * strideWidth + 1, c]) as Rank4;
  }
  grads = fitExtent(grads, 1, (filterHeight - 1) * dilationHeight - info.padInfo.top, height + (filterHeight - 1) * dilationHeight);
  return fitExtent(grads, 2, (filterWidth - 1) * dilationWidth - info.padInfo.left, width + (filterWidth - 1) * dilationWidth);
}

/** dx of a convolution on the forward Conv2D kernel (XNNPACK): about 10x the shipped wasm kernel. */
function conv2dInputGrad(dy: Rank4, filter: tf.Tensor4D, inShape: Shape4, info: ConvInfo): Rank4 {
  const rotated = tf.reverse(filter, [0, 1]).transpose([0, 1, 3, 2]) as tf.Tensor4D;
  return tf.conv2d(spreadForInputGrad(dy, inShape, info), rotated, 1, 'valid');
}

/** dW[kh,kw,c,m] = sum over batch and output positions of x tap[.., c] * dy[.., c*mult + m]. */
function depthwiseFilterGrad(x: Rank4, dy: Rank4, info: ConvInfo): tf.Tensor4D {
  const { filterHeight, filterWidth, inChannels, outChannels, outHeight, outWidth } = info;
  const mult = outChannels / inChannels;
  const rows = x.shape[0] * outHeight * outWidth;
  const xPadded = padInput(x, info);
  const grads = dy.reshape([rows, inChannels, mult]);
  const perTap = tapSlices(xPadded, info).map((slice) => tf.sum(tf.mul(slice.reshape([rows, inChannels, 1]), grads), 0));
  return tf.stack(perTap).reshape([filterHeight, filterWidth, inChannels, mult]);
}

/** dx of a depthwise convolution; channel multipliers are summed back per input channel. */
function depthwiseInputGrad(dy: Rank4, filter: tf.Tensor4D, inShape: Shape4, info: ConvInfo): Rank4 {
  const { filterHeight, filterWidth, dilationHeight, dilationWidth, inChannels, outChannels } = info;
  const [batch, height, width] = inShape;
  const mult = outChannels / inChannels;
  const rotated = tf.reverse(filter, [0, 1]).reshape([filterHeight, filterWidth, outChannels, 1]) as tf.Tensor4D;
  const perOutput: Rank4 = tf.depthwiseConv2d(spreadForInputGrad(dy, inShape, info), rotated, 1, 'valid', 'NHWC', [dilationHeight, dilationWidth]);
  if (mult === 1) return perOutput;
  return perOutput.reshape([batch, height, width, inChannels, mult]).sum(4);
}

/** Shifts `t` along `axis` by `before` (padding zeros, or cropping when negative) and sets its length. */
function fitExtent(t: Rank4, axis: 1 | 2, before: number, length: number): Rank4 {
  let out = t;
  if (before < 0) {
    const begin = [0, 0, 0, 0];
    begin[axis] = -before;
    out = out.slice(begin);
  }
  const lead = Math.max(0, before);
  const after = length - lead - out.shape[axis];
  if (after < 0) {
    const size = [...out.shape];
    size[axis] = out.shape[axis] + after;
    out = out.slice([0, 0, 0, 0], size);
  }
  if (lead > 0 || after > 0) {
    const pads: Array<[number, number]> = [[0, 0], [0, 0], [0, 0], [0, 0]];
    pads[axis] = [lead, Math.max(0, after)];
    out = out.pad(pads);
  }
  return out;
}

type Attrs = tf.NamedAttrMap;

function convInfo(xShape: number[], filterShape: number[], attrs: Attrs, depthwise: boolean): ConvInfo {
  const dilations = (attrs.dilations as number | [number, number] | undefined) ?? 1;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    dilations,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
  );
}

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  attrs: Attrs;
}

/** tfjs types inputs and attrs as optional; a registered gradient kernel always receives both. */
function required(args: { inputs: tf.NamedTensorInfoMap; attrs?: Attrs }, names: string[]): KernelArgs {
  const inputs: Record<string, tf.TensorInfo> = {};
  for (const name of names) {
    const info = args.inputs[name];
    if (!info) throw new SkywatchError('INTERNAL', `gradient kernel called without input '${name}'`);
    inputs[name] = info;
  }
  return { inputs, attrs: args.attrs ?? {} };
}

const kernels: tf.KernelConfig[] = [
  {
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs } = required(args, ['x', 'dy']);
      nhwcOnly(attrs.dataFormat, 'Conv2DBackpropFilter');
      return tf.tidy(() => {
        const x = asTensor(inputs.x) as Rank4;
        return conv2dFilterGrad(x, asTensor(inputs.dy) as Rank4, convInfo(x.shape, attrs.filterShape as number[], { ...attrs, dilations: 1 }, false));
      });
    },
  },
  {
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs } = required(args, ['dy', 'filter']);
      nhwcOnly(attrs.dataFormat, 'Conv2DBackpropInput');
      const inShape = attrs.inputShape as Shape4;
      return tf.tidy(() => {
        const filter = asTensor(inputs.filter) as tf.Tensor4D;
        return conv2dInputGrad(asTensor(inputs.dy) as Rank4, filter, inShape, convInfo(inShape, filter.shape, { ...attrs, dilations: 1 }, false));
      });
    },
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropFilter',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs } = required(args, ['x', 'dy']);
      return tf.tidy(() => {
        const x = asTensor(inputs.x) as Rank4;
        return depthwiseFilterGrad(x, asTensor(inputs.dy) as Rank4, convInfo(x.shape, attrs.filterShape as number[], attrs, true));
      });
    },
  },
  {
    kernelName: 'DepthwiseConv2dNativeBackpropInput',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs, attrs } = required(args, ['dy', 'filter']);
      const inShape = attrs.inputShape as [number, number, number, number];
      return tf.tidy(() => {
        const filter = asTensor(inputs.filter) as tf.Tensor4D;
        return depthwiseInputGrad(asTensor(inputs.dy) as Rank4, filter, inShape, convInfo(inShape, filter.shape, attrs, true));
      });
    },
  },
];

/**
 * Registers these kernels for wasm, replacing a shipped one where this module has a faster one. Call
 * after '@tensorflow/tfjs-backend-wasm' is imported (its own registrations run at import). Idempotent.
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  for (const kernel of kernels) {
    const current = tf.getKernel(kernel.kernelName, 'wasm');
    if (current?.kernelFunc === kernel.kernelFunc) continue;
    if (current) tf.unregisterKernel(kernel.kernelName, 'wasm');
    tf.registerKernel(kernel);
    added.push(kernel.kernelName);
  }
  return added;
}

/** The names registered here, for logs and tests. */
export const WASM_TRAINING_KERNELS = kernels.map((k) => k.kernelName);
