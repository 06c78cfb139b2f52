import { inflateRawSync } from 'node:zlib';
import { SkywatchError } from '../core/errors.js';
import type { RawFrame } from '../ingest/frame-decoder.js';

/**
 * `frames` [T, H, W, 3] uint8 from a NumPy .npz (the accident-detection seed's clip format): a zip of
 * .npy files, stored or deflated (np.savez / np.savez_compressed). Only what that format needs is
 * read: the central directory, one member, a C-ordered uint8 array. Untrusted input: every size is
 * checked before it is used.
 */
export function framesFromNpz(npz: Buffer, limits: { maxFrames: number; maxPixels: number }): RawFrame[] {
  const member = readZipMember(npz, 'frames.npy');
  const { shape, data } = readNpyUint8(member);
  if (shape.length !== 4 || shape[3] !== 3) throw new SkywatchError('BAD_REQUEST', `frames must be [T, H, W, 3] uint8, got shape [${shape.join(', ')}]`);
  const [t, h, w] = shape;
  if (t < 1 || h < 8 || w < 8) throw new SkywatchError('BAD_REQUEST', `frames [${shape.join(', ')}] is too small`);
  if (t > limits.maxFrames) throw new SkywatchError('PAYLOAD_TOO_LARGE', `${t} frames; at most ${limits.maxFrames}`);
  if (w * h > limits.maxPixels) throw new SkywatchError('IMAGE_TOO_MANY_PIXELS', `frames are ${w}x${h}, over ${limits.maxPixels} pixels`);
  const per = w * h * 3;
  return Array.from({ length: t }, (_, i) => ({ data: data.subarray(i * per, (i + 1) * per), width: w, height: h, index: i, ptsMs: 0, waiting: 0 }));
}

function readZipMember(zip: Buffer, name: string): Buffer {
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new SkywatchError('BAD_REQUEST', 'not an .npz file (no zip directory)');
  const entries = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const found: string[] = [];
  for (let e = 0; e < entries; e++) {
    if (p + 46 > zip.length || zip.readUInt32LE(p) !== 0x02014b50) throw new SkywatchError('BAD_REQUEST', 'corrupt .npz (zip directory)');
    const method = zip.readUInt16LE(p + 10);
    let compressed = zip.readUInt32LE(p + 20);
    let size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    let local = zip.readUInt32LE(p + 42);
    const entryName = zip.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    // ZIP64 (numpy writes it for members over 4 GiB, and sometimes with 0xffffffff placeholders).
    if (compressed === 0xffffffff || size === 0xffffffff || local === 0xffffffff) {
      let x = p + 46 + nameLen;
      const end = x + extraLen;
      while (x + 4 <= end) {
        const id = zip.readUInt16LE(x);
        const len = zip.readUInt16LE(x + 2);
        if (id === 0x0001) {
          let q = x + 4;
          if (size === 0xffffffff) { size = Number(zip.readBigUInt64LE(q)); q += 8; }
          if (compressed === 0xffffffff) { compressed = Number(zip.readBigUInt64LE(q)); q += 8; }
          if (local === 0xffffffff) local = Number(zip.readBigUInt64LE(q));
        }
        x += 4 + len;
      }
    }
    found.push(entryName);
    if (entryName === name) {
      if (local + 30 > zip.length || zip.readUInt32LE(local) !== 0x04034b50) throw new SkywatchError('BAD_REQUEST', 'corrupt .npz (local header)');
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      if (start + compressed > zip.length) throw new SkywatchError('BAD_REQUEST', 'corrupt .npz (member runs past the end)');
      const raw = zip.subarray(start, start + compressed);
      if (method === 0) return raw;
      if (method === 8) {
        try {
          // maxOutputLength: the declared size, so a zip bomb cannot make us allocate more.
          return inflateRawSync(raw, { maxOutputLength: Math.max(1, size) });
        } catch (err) {
          throw new SkywatchError('BAD_REQUEST', `corrupt .npz (${(err as Error).message})`);
        }
      }
      throw new SkywatchError('BAD_REQUEST', `.npz member compressed with method ${method}; only stored and deflate are read`);
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new SkywatchError('BAD_REQUEST', `the .npz has no "frames" array (it has: ${found.map((f) => f.replace(/\.npy$/, '')).join(', ') || 'nothing'})`);
}

function readNpyUint8(npy: Buffer): { shape: number[]; data: Buffer } {
  if (npy.length < 10 || npy.toString('latin1', 0, 6) !== '\x93NUMPY') throw new SkywatchError('BAD_REQUEST', 'frames is not a .npy array');
  const major = npy[6];
  const headerLen = major === 1 ? npy.readUInt16LE(8) : npy.readUInt32LE(8);
  const offset = major === 1 ? 10 : 12;
  const header = npy.toString('latin1', offset, offset + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (descr !== '|u1' && descr !== '<u1' && descr !== 'u1') throw new SkywatchError('BAD_REQUEST', `frames must be uint8, got dtype ${descr ?? 'unknown'}`);
  if (/'fortran_order':\s*True/.test(header)) throw new SkywatchError('BAD_REQUEST', 'frames must be C-ordered (fortran_order False)');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) throw new SkywatchError('BAD_REQUEST', 'frames .npy header has no shape');
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) throw new SkywatchError('BAD_REQUEST', `bad shape (${shapeText})`);
  const data = npy.subarray(offset + headerLen);
  const expected = shape.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new SkywatchError('BAD_REQUEST', `frames holds ${data.length} bytes, its shape [${shape.join(', ')}] needs ${expected}`);
  return { shape, data };
}
