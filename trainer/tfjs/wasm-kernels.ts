import * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';

/**
 * Gradient kernels the wasm backend of tfjs 4.22 does not ship, built from kernels it does ship
 * (StridedSlice, Concat, BatchMatMul, DepthwiseConv2dNative, ...), so a CNN can train on wasm:
 *
 * - Conv2DBackpropFilter: the filter gradient of every convolution.
 * - DepthwiseConv2dNativeBackpropFilter: the same for depthwise convolutions.
 * - DepthwiseConv2dNativeBackpropInput: the input gradient of a depthwise convolution that is not
 *   the first layer (the only other missing kernel a conv/BN/ReLU/pool/dense training step reaches:
 *   MaxPoolGrad, AvgPoolGrad, Conv2DBackpropInput, FusedBatchNorm and the rest exist on wasm).
 *
 * Each kernel wraps its inputs as tensors and composes tf ops inside a tidy; the engine switches the
 * gradient tape off while a kernel runs, so none of this is recorded.
 */

type ConvInfo = tf.backend_util.Conv2DInfo;
type Rank4 = tf.Tensor4D;

/** Caps the patch matrix of one BatchMatMul (floats), so a large batch is folded in slices. */
let maxPatchFloats = 16 * 1024 * 1024;

/** Sets the cap on one patch matrix (floats) and returns the previous one; tests lower it. */
export function setMaxPatchFloats(floats: number): number {
  const previous = maxPatchFloats;
  maxPatchFloats = Math.max(1, Math.floor(floats));
  return previous;
}

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

/**
 * Copies the input window each filter tap reads, for batch rows [n0, n1): one [n, outH, outW, inC]
 * slice per tap, in (kh, kw) order.
 */
function tapSlices(xPadded: Rank4, info: ConvInfo, n0: number, n1: number): Rank4[] {
  const slices: Rank4[] = [];
  const { filterHeight, filterWidth, dilationHeight, dilationWidth, strideHeight, strideWidth, outHeight, outWidth, inChannels } = info;
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const top = kh * dilationHeight;
      const left = kw * dilationWidth;
      slices.push(tf.stridedSlice(
        xPadded,
        [n0, top, left, 0],
        [n1, top + (outHeight - 1) * strideHeight + 1, left + (outWidth - 1) * strideWidth + 1, inChannels],
        [1, strideHeight, strideWidth, 1],
      ) as Rank4);
    }
  }
  return slices;
}

function padInput(x: Rank4, info: ConvInfo): Rank4 {
  const { top, bottom, left, right } = info.padInfo;
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  return tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]);
}

/** dW[kh,kw,ci,co] = sum over batch and output positions of patch(x)[.., (kh,kw,ci)] * dy[.., co]. */
function conv2dFilterGrad(x: Rank4, dy: Rank4, info: ConvInfo): tf.Tensor4D {
  const { filterHeight, filterWidth, inChannels, outChannels, outHeight, outWidth } = info;
  const batch = x.shape[0];
  const taps = filterHeight * filterWidth;
  const perImage = outHeight * outWidth * taps * inChannels;
  const chunk = Math.max(1, Math.min(batch, Math.floor(maxPatchFloats / Math.max(1, perImage))));
  const xPadded = padInput(x, info);
  let total: tf.Tensor2D | undefined;
  for (let n0 = 0; n0 < batch; n0 += chunk) {
    const n1 = Math.min(batch, n0 + chunk);
    const part = tf.tidy(() => {
      const rows = (n1 - n0) * outHeight * outWidth;
      const patches = tf.concat(tapSlices(xPadded, info, n0, n1), 3).reshape([rows, taps * inChannels]);
      const grads = tf.slice(dy, [n0, 0, 0, 0], [n1 - n0, -1, -1, -1]).reshape([rows, outChannels]);
      return tf.matMul(patches, grads, true, false) as tf.Tensor2D;
    });
    if (total) {
      const sum = tf.add(total, part) as tf.Tensor2D;
      total.dispose();
      part.dispose();
      total = sum;
    } else {
      total = part;
    }
  }
  return (total as tf.Tensor2D).reshape([filterHeight, filterWidth, inChannels, outChannels]);
}

/** dW[kh,kw,c,m] = sum over batch and output positions of x tap[.., c] * dy[.., c*mult + m]. */
function depthwiseFilterGrad(x: Rank4, dy: Rank4, info: ConvInfo): tf.Tensor4D {
  const { filterHeight, filterWidth, inChannels, outChannels, outHeight, outWidth } = info;
  const mult = outChannels / inChannels;
  const rows = x.shape[0] * outHeight * outWidth;
  const xPadded = padInput(x, info);
  const grads = dy.reshape([rows, inChannels, mult]);
  const perTap = tapSlices(xPadded, info, 0, x.shape[0]).map((slice) => tf.sum(tf.mul(slice.reshape([rows, inChannels, 1]), grads), 0));
  return tf.stack(perTap).reshape([filterHeight, filterWidth, inChannels, mult]);
}

/**
 * dx of a depthwise convolution is a stride-1 depthwise correlation of dy (zeros inserted between rows
 * and columns for strides > 1, then padded so the output has the input's size) with the filter
 * rotated by 180 degrees; channel multipliers are summed back per input channel.
 */
function depthwiseInputGrad(dy: Rank4, filter: tf.Tensor4D, inShape: [number, number, number, number], info: ConvInfo): Rank4 {
  const { filterHeight, filterWidth, dilationHeight, dilationWidth, strideHeight, strideWidth, inChannels, outChannels } = info;
  const [batch, height, width] = inShape;
  const mult = outChannels / inChannels;
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
  grads = fitExtent(grads, 2, (filterWidth - 1) * dilationWidth - info.padInfo.left, width + (filterWidth - 1) * dilationWidth);
  const rotated = tf.reverse(filter, [0, 1]).reshape([filterHeight, filterWidth, outChannels, 1]) as tf.Tensor4D;
  const perOutput: Rank4 = tf.depthwiseConv2d(grads, rotated, 1, 'valid', 'NHWC', [dilationHeight, dilationWidth]);
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

/** Registers the missing kernels once per process (tfjs throws on a second registration). */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  for (const kernel of kernels) {
    if (tf.getKernel(kernel.kernelName, 'wasm')) continue;
    tf.registerKernel(kernel);
    added.push(kernel.kernelName);
  }
  return added;
}

/** The names registered here, for logs and tests. */
export const WASM_TRAINING_KERNELS = kernels.map((k) => k.kernelName);
