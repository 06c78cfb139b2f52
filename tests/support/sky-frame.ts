import { rgbToI420 } from '../../core/image/i420.js';

/**
 * A W x H I420 frame of clear sky with a dark 8x8 square at (x, y) (none while x < 0): the smallest
 * thing motion, tracking and alerts all see, made as a camera's decoder would hand it over.
 */
export function skyFrame(width: number, height: number, x: number, y = 30): Buffer {
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set([135, 206, 235], i * 3);
  if (x >= 0) for (let row = y; row < y + 8; row++) for (let px = x; px < x + 8; px++) rgb.set([30, 30, 30], (row * width + px) * 3);
  return rgbToI420(rgb, width, height);
}
