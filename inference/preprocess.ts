import sharp, { type Metadata } from 'sharp';
import { SkywatchError } from '../core/errors.js';
import type { ModelInput } from '../core/model/manifest.js';
import { RESIZE_KERNEL } from '../core/image/crop-pixels.js';
import { WasmLayout, wasmModule } from '../core/wasm-module.js';

export interface DecodeOptions {
  /** Images with more pixels are refused from their header, before any decoding (decompression bombs). */
  maxPixels?: number;
}

export interface DecodedImage {
  /** Packed RGB24 at the model's input size. */
  rgb: Buffer;
  width: number;
  height: number;
  /** Size of the image as uploaded (after EXIF rotation). */
  sourceWidth: number;
  sourceHeight: number;
}

const DEFAULT_MAX_PIXELS = 40_000_000;

/** Image formats libvips does not read, known by their first bytes. */
const OTHER_IMAGE_SIGNATURES: Array<[string, number[]]> = [
  ['bmp', [0x42, 0x4d]],
  ['ico', [0x00, 0x00, 0x01, 0x00]],
  ['psd', [0x38, 0x42, 0x50, 0x53]],
];

function otherImageFormat(bytes: Buffer): string | null {
  return OTHER_IMAGE_SIGNATURES.find(([, magic]) => bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b))?.[0] ?? null;
}
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp']);

/**
 * Decodes JPEG, PNG and WebP (and nothing else) with sharp, applies EXIF orientation, drops alpha, expands greyscale
 * and stretches to the model's input size. Training and serving both call this, so a model sees the
 * same pixels in both.
 */
export async function decodeImage(input: Buffer | string, width: number, height: number, options: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (Buffer.isBuffer(input) && input.length === 0) throw new SkywatchError('IMAGE_EMPTY');
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    // An image libvips cannot even read (a BMP from a Windows tool) is a format question, not a broken file.
    const format = Buffer.isBuffer(input) ? otherImageFormat(input) : null;
    if (format) throw new SkywatchError('UNSUPPORTED_MEDIA_TYPE', `images must be JPEG, PNG or WebP, not ${format}`, { format });
    throw new SkywatchError('IMAGE_INVALID', `not a readable image: ${(err as Error).message}`, undefined, { cause: err });
  }
  // libvips reads many more formats (SVG, TIFF, HEIF, PDF, GIF...), each a parser reachable from the
  // API; only the three the documentation promises are decoded.
  if (!ACCEPTED_FORMATS.has(meta.format ?? '')) {
    throw new SkywatchError('UNSUPPORTED_MEDIA_TYPE', `images must be JPEG, PNG or WebP, not ${meta.format ?? 'unknown'}`, { format: meta.format ?? null });
  }
  if (!meta.width || !meta.height) throw new SkywatchError('IMAGE_INVALID', 'image has no dimensions');
  if (meta.width * meta.height > maxPixels) {
    throw new SkywatchError('IMAGE_TOO_MANY_PIXELS', `image is ${meta.width}x${meta.height}, over the limit of ${maxPixels} pixels`, { width: meta.width, height: meta.height, maxPixels });
  }
  try {
    const { data, info } = await sharp(input, { limitInputPixels: maxPixels, failOn: 'error', pages: 1 })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .resize(width, height, { fit: 'fill', kernel: RESIZE_KERNEL })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const rgb = info.channels === 3 ? data : toRgb(data, info.channels, width * height);
    const rotated = (meta.orientation ?? 1) >= 5;
    return { rgb, width, height, sourceWidth: rotated ? meta.height : meta.width, sourceHeight: rotated ? meta.width : meta.height };
  } catch (err) {
    throw new SkywatchError('IMAGE_INVALID', `image could not be decoded: ${(err as Error).message}`, undefined, { cause: err });
  }
}

function toRgb(data: Buffer, channels: number, pixels: number): Buffer {
  const out = Buffer.alloc(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const g = data[i * channels];
    out[i * 3] = g;
    out[i * 3 + 1] = channels >= 3 ? data[i * channels + 1] : g;
    out[i * 3 + 2] = channels >= 3 ? data[i * channels + 2] : g;
  }
  return out;
}

interface PlanesExports {
  memory: WebAssembly.Memory;
  planes(src: number, n: number, lut: number, out0: number, out1: number, out2: number): void;
}

/** One instance for the process (the function is synchronous, so calls never overlap); its memory grows to the largest input seen. */
let planesKernel: PlanesExports | null = null;

/** The source channel each plane of the model's input reads. */
const channelOrder = (spec: ModelInput): number[] => (spec.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2]);

/** Lookup tables by normalisation: (value - mean) / std of every byte value, per source channel. */
const planeTables = new Map<string, Float32Array>();

function planeTable(spec: ModelInput): Float32Array {
  const key = `${spec.channelOrder}:${spec.mean.join(',')}:${spec.std.join(',')}`;
  let table = planeTables.get(key);
  if (!table) {
    table = new Float32Array(3 * 256);
    const order = channelOrder(spec);
    for (let c = 0; c < 3; c++) {
      // Plane c reads source channel order[c]: that channel's table uses plane c's mean and std, in the
      // arithmetic (and the rounding to float32) of the loop this replaced.
      const inv = 1 / spec.std[c];
      for (let v = 0; v < 256; v++) table[order[c] * 256 + v] = (v - spec.mean[c]) * inv;
    }
    if (planeTables.size >= 16) planeTables.clear();
    planeTables.set(key, table);
  }
  return table;
}

/**
 * Packed RGB24 (already at the input size) into the model's NCHW float layout with its channel order
 * and normalisation, written at `offset` floats into `out` so batches are filled without copies. The
 * pass runs in WebAssembly (tensor-planes.wat) through a table per channel: one read of the pixels
 * instead of three strided ones, about a tenth of the main thread at 16 cameras before.
 */
export function rgbToTensor(rgb: Uint8Array, spec: ModelInput, out?: Float32Array, offset = 0): Float32Array {
  const plane = spec.width * spec.height;
  if (rgb.length !== plane * 3) throw new SkywatchError('IMAGE_INVALID', `expected ${plane * 3} RGB bytes, got ${rgb.length}`);
  const target = out ?? new Float32Array(plane * 3);
  if (target.length < offset + plane * 3) throw new RangeError(`the tensor holds ${target.length} floats, ${offset + plane * 3} are needed`);
  planesKernel ??= new WebAssembly.Instance(wasmModule(new URL('./tensor-planes.wasm', import.meta.url)), {}).exports as unknown as PlanesExports;
  const k = planesKernel;
  const layout = new WasmLayout();
  const lut = layout.place(3 * 256 * 4);
  const src = layout.place(rgb.length);
  const planes = layout.place(plane * 3 * 4);
  const buffer = layout.fit(k.memory);
  new Float32Array(buffer, lut, 3 * 256).set(planeTable(spec));
  new Uint8Array(buffer, src, rgb.length).set(rgb);
  const order = channelOrder(spec);
  // Source channel k goes to the plane that reads it.
  const planeOf = [0, 1, 2].map((k) => order.indexOf(k));
  k.planes(src, plane, lut, planes + planeOf[0] * plane * 4, planes + planeOf[1] * plane * 4, planes + planeOf[2] * plane * 4);
  target.set(new Float32Array(buffer, planes, plane * 3), offset);
  return target;
}

/** Decode + resize + normalise in one call: the common path for a file or an upload. */
export async function imageToTensor(input: Buffer | string, spec: ModelInput, options: DecodeOptions = {}): Promise<Float32Array> {
  const img = await decodeImage(input, spec.width, spec.height, options);
  return rgbToTensor(img.rgb, spec);
}
