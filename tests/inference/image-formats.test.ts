import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isSkywatchError } from '../../core/errors.js';
import { decodeImage } from '../../inference/preprocess.js';

const base = () => sharp({ create: { width: 24, height: 16, channels: 3, background: { r: 10, g: 120, b: 200 } } });

async function codeOf(input: Buffer): Promise<string> {
  try {
    await decodeImage(input, 8, 8);
    return 'decoded';
  } catch (err) {
    return isSkywatchError(err) ? err.code : `UNEXPECTED ${(err as Error).message}`;
  }
}

describe('image formats', () => {
  it('decodes JPEG, PNG and WebP, as documented', async () => {
    for (const buf of [await base().jpeg().toBuffer(), await base().png().toBuffer(), await base().webp().toBuffer()]) expect(await codeOf(buf)).toBe('decoded');
  });

  it('refuses SVG, TIFF and GIF with 415 UNSUPPORTED_MEDIA_TYPE though libvips could read them', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="20" height="20" fill="red"/></svg>');
    expect(await codeOf(svg)).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await codeOf(await base().tiff().toBuffer())).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await codeOf(await base().gif().toBuffer())).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a BMP (which libvips cannot read) as an unsupported format, and random bytes as an unreadable image', async () => {
    const bmp = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=red:s=16x16', '-frames:v', '1', '-c:v', 'bmp', '-f', 'image2pipe', 'pipe:1']);
    expect(bmp.subarray(0, 2).toString()).toBe('BM');
    expect(await codeOf(bmp)).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await codeOf(Buffer.from('this is not an image at all'))).toBe('IMAGE_INVALID');
  });
});
