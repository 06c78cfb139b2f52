import sharp from 'sharp';
import path from 'node:path';
import type { DataItem } from './scan.js';

/**
 * Photographs that are one photograph: exported image sets often hold each photo twice, the original
 * and a horizontally flipped copy (the shared drone/bird set does). If the two landed in different
 * splits, the test split would score photos the model was trained on, mirrored. The pairs are found
 * from pixels, not file names: a small grayscale thumbnail of each image is hashed (one bit per pixel:
 * brighter than the thumbnail's mean), and so is its mirror image; an image whose hash is within a few
 * bits of another image's mirrored hash is the same photograph. Pairs are joined into groups
 * (union-find), which splits keep together.
 */

/** Thumbnail side: 16x16 = 256 bits. */
export const HASH_SIDE = 16;
/**
 * Bits (of 256) a flipped copy may differ by. On the shared train set (2,662 images) flipped copies
 * differ by 0 or 1 bit; flipped and re-encoded (JPEG quality 85) copies of 60 `valid` photos by 0 to 2.
 * Distinct photographs are mostly 12 or more apart; the few closer are shots of one scene a moment
 * apart, which are better kept together anyway.
 */
export const MIRROR_MAX_DISTANCE = 4;
const WORDS = (HASH_SIDE * HASH_SIDE) / 32;

export interface MirrorHash {
  hash: Uint32Array;
  mirrored: Uint32Array;
}

function packBits(gray: Uint8Array, mirrored: boolean): Uint32Array {
  const mean = gray.reduce((a, b) => a + b, 0) / gray.length;
  const out = new Uint32Array(WORDS);
  for (let y = 0; y < HASH_SIDE; y++) {
    for (let x = 0; x < HASH_SIDE; x++) {
      const v = gray[y * HASH_SIDE + (mirrored ? HASH_SIDE - 1 - x : x)];
      const bit = y * HASH_SIDE + x;
      if (v > mean) out[bit >>> 5] |= 1 << (bit & 31);
    }
  }
  return out;
}

/** The hash of an image and of its horizontal mirror (the thumbnail's columns reversed). */
export async function mirrorHash(file: string): Promise<MirrorHash> {
  const gray = new Uint8Array(await sharp(file).grayscale().resize(HASH_SIDE, HASH_SIDE, { fit: 'fill' }).raw().toBuffer());
  return { hash: packBits(gray, false), mirrored: packBits(gray, true) };
}

function popcount(v: number): number {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

export function hammingDistance(a: Uint32Array, b: Uint32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += popcount(a[i] ^ b[i]);
  return d;
}

/**
 * Group index of every hash: i and j share a group when i's hash is within `maxDistance` bits of j's
 * mirrored hash (directly or through other pairs). Candidates come from an exact-match index on parts
 * of the hash: two hashes within d bits agree exactly on at least one of d + 1 parts (pigeonhole), so
 * large sets are not compared all against all.
 */
export function groupMirrored(hashes: readonly MirrorHash[], maxDistance = MIRROR_MAX_DISTANCE): number[] {
  const parent = hashes.map((_h, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const parts = Math.min(WORDS * 32, maxDistance + 1);
  const bitsPerPart = Math.ceil((WORDS * 32) / parts);
  const partKey = (h: Uint32Array, p: number) => {
    let key = `${p}:`;
    for (let b = p * bitsPerPart; b < Math.min((p + 1) * bitsPerPart, WORDS * 32); b++) key += (h[b >>> 5] >>> (b & 31)) & 1;
    return key;
  };
  const index = new Map<string, number[]>();
  hashes.forEach((h, i) => {
    for (let p = 0; p < parts; p++) {
      const key = partKey(h.hash, p);
      const list = index.get(key);
      if (list) list.push(i);
      else index.set(key, [i]);
    }
  });
  hashes.forEach((h, i) => {
    const seen = new Set<number>();
    for (let p = 0; p < parts; p++) {
      for (const j of index.get(partKey(h.mirrored, p)) ?? []) {
        if (j === i || seen.has(j)) continue;
        seen.add(j);
        if (hammingDistance(h.mirrored, hashes[j].hash) <= maxDistance) parent[find(i)] = find(j);
      }
    }
  });
  return hashes.map((_h, i) => find(i));
}

/**
 * A grouping for splits: each item's key is the first path (in sort order) of its mirror group, so a
 * photograph and its flipped copy share a key. Images that cannot be decoded stay on their own.
 */
export async function mirrorGrouping(dir: string, items: readonly DataItem[], options: { concurrency?: number } = {}): Promise<{ groupOf: (item: DataItem) => string; groups: number; paired: number }> {
  const hashes: Array<MirrorHash | null> = new Array(items.length).fill(null);
  let next = 0;
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, async () => {
    for (let i = next++; i < items.length; i = next++) hashes[i] = await mirrorHash(path.join(dir, items[i].path)).catch(() => null);
  }));
  const readable = items.map((_it, i) => i).filter((i) => hashes[i] !== null);
  const roots = groupMirrored(readable.map((i) => hashes[i]!));
  const members = new Map<number, string[]>();
  readable.forEach((itemIndex, k) => {
    const list = members.get(roots[k]);
    if (list) list.push(items[itemIndex].path);
    else members.set(roots[k], [items[itemIndex].path]);
  });
  const keyOf = new Map<string, string>();
  for (const paths of members.values()) {
    const key = [...paths].sort()[0];
    for (const p of paths) keyOf.set(p, key);
  }
  const paired = [...members.values()].filter((m) => m.length > 1).reduce((n, m) => n + m.length, 0);
  return { groupOf: (item) => keyOf.get(item.path) ?? item.path, groups: members.size + (items.length - readable.length), paired };
}
