import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Stats } from 'node:fs';
import { SkywatchError } from '../errors.js';
import { assertKey, type BlobStore, type ObjectInfo, type WriteOptions } from './blob-store.js';

const LOCK_STALE_MS = 30_000;

/**
 * A folder as a blob store. Every write goes to a temp file and is renamed into place, so readers see
 * whole files only; conditional writes take a lock file so the compare and the swap are one step.
 */
export class LocalStore implements BlobStore {
  readonly url: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.url = this.root;
  }

  private file(key: string): string {
    return path.join(this.root, ...assertKey(key).split('/'));
  }

  private info(key: string, st: Stats): ObjectInfo {
    // A rename gives every write a new inode, and with the mtime that makes a generation that changes.
    return { key, size: st.size, generation: `${st.ino}.${Math.round(st.mtimeMs * 1000)}`, updated: st.mtime };
  }

  async read(key: string): Promise<Buffer> {
    try {
      return await readFile(this.file(key));
    } catch (err) {
      throw notFoundOr(err, key);
    }
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    try {
      const st = await stat(this.file(key));
      return st.isFile() ? this.info(assertKey(key), st) : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async write(key: string, data: Buffer | string, options: WriteOptions = {}): Promise<ObjectInfo> {
    return this.put(key, options, async (tmp) => {
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
  }

  async upload(localPath: string, key: string, options: WriteOptions = {}): Promise<ObjectInfo> {
    return this.put(key, options, (tmp) => pipeline(createReadStream(localPath), createWriteStream(tmp)));
  }

  async download(key: string, localPath: string): Promise<ObjectInfo> {
    const info = await this.stat(key);
    if (!info) throw new SkywatchError('STORAGE_NOT_FOUND', `object not found: ${key}`, { key });
    await mkdir(path.dirname(localPath), { recursive: true });
    const tmp = `${localPath}.${randomBytes(4).toString('hex')}.part`;
    try {
      await pipeline(createReadStream(this.file(key)), createWriteStream(tmp));
      await rename(tmp, localPath);
    } catch (err) {
      await rm(tmp, { force: true });
      throw notFoundOr(err, key);
    }
    return info;
  }

  async list(prefix = ''): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const entry of entries) {
        const key = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (prefix.startsWith(`${key}/`) || key.startsWith(prefix) || prefix === '') await walk(path.join(dir, entry.name), key);
        } else if (entry.isFile() && key.startsWith(prefix) && !isInternal(entry.name)) {
          const st = await stat(path.join(dir, entry.name));
          out.push(this.info(key, st));
        }
      }
    };
    await walk(this.root, '');
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  private async put(key: string, options: WriteOptions, writeTmp: (tmp: string) => Promise<void>): Promise<ObjectInfo> {
    const target = this.file(key);
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomBytes(6).toString('hex')}.part`;
    try {
      await writeTmp(tmp);
      if (options.ifGenerationMatch === undefined) {
        await rename(tmp, target);
      } else {
        await this.withLock(target, async () => {
          const current = await this.stat(key);
          const currentGen = current ? current.generation : '0';
          if (currentGen !== options.ifGenerationMatch) {
            throw new SkywatchError('STORAGE_PRECONDITION', `generation of ${key} is ${currentGen}, expected ${options.ifGenerationMatch}`, { key });
          }
          await rename(tmp, target);
        });
      }
    } finally {
      await rm(tmp, { force: true });
    }
    return this.info(assertKey(key), await stat(target));
  }

  private async withLock<T>(target: string, fn: () => Promise<T>): Promise<T> {
    const lock = `${target}.lock`;
    const started = Date.now();
    for (;;) {
      try {
        const fh = await open(lock, 'wx');
        await fh.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const st = await stat(lock).catch(() => null);
        if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) await rm(lock, { force: true });
        if (Date.now() - started > LOCK_STALE_MS * 2) throw new SkywatchError('STORAGE_IO', `could not lock ${target}`);
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { force: true });
    }
  }
}

function isInternal(name: string): boolean {
  return name.endsWith('.part') || name.endsWith('.lock');
}

function notFoundOr(err: unknown, key: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'EISDIR') return new SkywatchError('STORAGE_NOT_FOUND', `object not found: ${key}`, { key });
  return err;
}
