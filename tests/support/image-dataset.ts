import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/**
 * A small labelled image set made with sharp: "drone" images are dark crosses on sky blue, "bird"
 * images are warm blobs on green, with seeded jitter, so a model can actually learn them.
 */
export async function makeImageDataset(root: string, perLabel = 12, size = 48, seed = 1): Promise<string[]> {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const labels = ['bird', 'drone'];
  const files: string[] = [];
  for (const label of labels) {
    mkdirSync(path.join(root, label), { recursive: true });
    for (let i = 0; i < perLabel; i++) {
      const cx = Math.round(size * (0.3 + 0.4 * rand()));
      const cy = Math.round(size * (0.3 + 0.4 * rand()));
      const r = Math.round(size * (0.12 + 0.1 * rand()));
      const shape = label === 'drone'
        ? `<rect x="${cx - r}" y="${cy - 2}" width="${2 * r}" height="4" fill="#111"/><rect x="${cx - 2}" y="${cy - r}" width="4" height="${2 * r}" fill="#111"/>`
        : `<ellipse cx="${cx}" cy="${cy}" rx="${r}" ry="${Math.round(r * 0.6)}" fill="#c84"/>`;
      const bg = label === 'drone' ? `rgb(${120 + Math.round(rand() * 40)},170,230)` : `rgb(90,${140 + Math.round(rand() * 40)},80)`;
      const svgText = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="${bg}"/>${shape}</svg>`;
      const file = path.join(root, label, `${label}-${i}.jpg`);
      writeFileSync(file, await sharp(Buffer.from(svgText)).jpeg({ quality: 90 }).toBuffer());
      files.push(file);
    }
  }
  return files;
}
