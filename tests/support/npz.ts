import { crc32 } from 'node:zlib';

/** A NumPy .npz (zip, stored) holding one uint8 array per name, as np.savez writes it. */
export function writeNpz(arrays: Record<string, { shape: number[]; data: Uint8Array }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, arr] of Object.entries(arrays)) {
    let header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${arr.shape.join(', ')}${arr.shape.length === 1 ? ',' : ''}), }`;
    const total = 10 + header.length + 1;
    header = header.padEnd(header.length + ((64 - (total % 64)) % 64), ' ') + '\n';
    const pre = Buffer.alloc(10);
    pre.write('\x93NUMPY', 0, 'latin1');
    pre[6] = 1;
    pre[7] = 0;
    pre.writeUInt16LE(header.length, 8);
    const npy = Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength)]);
    const file = Buffer.from(`${name}.npy`);
    const crc = crc32(npy);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(npy.length, 18);
    local.writeUInt32LE(npy.length, 22);
    local.writeUInt16LE(file.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(npy.length, 20);
    central.writeUInt32LE(npy.length, 24);
    central.writeUInt16LE(file.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, file, npy);
    centrals.push(central, file);
    offset += local.length + file.length + npy.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(arrays).length, 8);
  end.writeUInt16LE(Object.keys(arrays).length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}
