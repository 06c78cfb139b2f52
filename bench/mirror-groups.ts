import sharp from 'sharp';

/**
 * A group per photograph: an image and its horizontally flipped copy (same label; the nearest mirrored
 * 16x16 grey thumbnail, when close) share one, so a split never has a photo on one side and its mirror
 * on the other.
 */
export async function mirrorGroups(files: string[], labels: string[]): Promise<number[]> {
  const S = 16;
  const thumbs = await Promise.all(files.map(async (f) => new Uint8Array(await sharp(f).grayscale().resize(S, S, { fit: 'fill' }).raw().toBuffer())));
  const parent = files.map((_f, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  for (let i = 0; i < files.length; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let j = 0; j < files.length; j++) {
      if (j === i || labels[j] !== labels[i]) continue;
      let d = 0;
      for (let y = 0; y < S && d < bestD; y++) for (let x = 0; x < S; x++) d += (thumbs[i][y * S + x] - thumbs[j][y * S + S - 1 - x]) ** 2;
      if (d < bestD) {
        bestD = d;
        best = j;
      }
    }
    // A mean squared difference under 25 (5 grey levels): the same photograph mirrored.
    if (best >= 0 && bestD / (S * S) < 25) parent[find(i)] = find(best);
  }
  return files.map((_f, i) => find(i));
}
