import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { createRng } from '../../../trainer/tfjs/seeded-random.js';

/**
 * Writes `perLabel` JPEGs for each of two labels into `<dir>/<label>/`: "disc" is a warm-coloured
 * circle, "bar" a cool-coloured wide rectangle, each at a random place and size on a random muted
 * background, so a small model can learn them and a copy-paste mistake cannot.
 */
export async function writeShapeDataset(dir: string, perLabel: number, seed: number, size = 64): Promise<Record<string, string[]>> {
  const rng = createRng(seed);
  const out: Record<string, string[]> = { disc: [], bar: [] };
  for (const label of Object.keys(out)) {
    await mkdir(path.join(dir, label), { recursive: true });
    for (let i = 0; i < perLabel; i++) {
      const bg = `rgb(${90 + rng.int(60)},${90 + rng.int(60)},${90 + rng.int(60)})`;
      const s = size * rng.uniform(0.25, 0.4);
      const cx = rng.uniform(s, size - s);
      const cy = rng.uniform(s, size - s);
      const shape = label === 'disc'
        ? `<circle cx="${cx}" cy="${cy}" r="${s}" fill="rgb(${200 + rng.int(55)},${40 + rng.int(80)},${rng.int(60)})"/>`
        : `<rect x="${cx - s}" y="${cy - s / 2.5}" width="${2 * s}" height="${s / 1.25}" fill="rgb(${rng.int(60)},${60 + rng.int(80)},${200 + rng.int(55)})"/>`;
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="${bg}"/>${shape}</svg>`;
      const file = path.join(dir, label, `${label}-${String(i).padStart(3, '0')}.jpg`);
      await writeFile(file, await sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer());
      out[label].push(file);
    }
  }
  return out;
}
