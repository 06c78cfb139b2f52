import sharp, { type Metadata } from 'sharp';
import { SkywatchError } from '../core/errors.js';
import type { ModelInput } from '../core/model/manifest.js';
import { RESIZE_KERNEL } from '../core/image/crop-pixels.js';

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

/**
 * Packed RGB24 (already at the input size) into the model's NCHW float layout with its channel order
 * and normalisation, written at `offset` floats into `out` so batches are filled without copies.
 */
export function rgbToTensor(rgb: Uint8Array, spec: ModelInput, out?: Float32Array, offset = 0): Float32Array {
  const plane = spec.width * spec.height;
  if (rgb.length !== plane * 3) throw new SkywatchError('IMAGE_INVALID', `expected ${plane * 3} RGB bytes, got ${rgb.length}`);
  const target = out ?? new Float32Array(plane * 3);
  const order = spec.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let c = 0; c < 3; c++) {
    const src = order[c];
    const mean = spec.mean[c];
    const inv = 1 / spec.std[c];
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) target[base + i] = (rgb[i * 3 + src] - mean) * inv;
  }
  return target;
}

/** Decode + resize + normalise in one call: the common path for a file or an upload. */
export async function imageToTensor(input: Buffer | string, spec: ModelInput, options: DecodeOptions = {}): Promise<Float32Array> {
  const img = await decodeImage(input, spec.width, spec.height, options);
  return rgbToTensor(img.rgb, spec);
}
