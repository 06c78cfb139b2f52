import { createWriteStream } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import { SkywatchError } from '../core/errors.js';

/**
 * Local copies of video files that cameras read from web servers, one per camera.
 *
 * ffmpeg reads an MP4 whose index (`moov`) follows its data by seeking back, which needs range
 * requests; the simplest servers (python's http.server) ignore them, and such a file then fails to
 * decode at all. A recording is finite, so it is fetched once and played from the copy, every pass
 * of a looping camera included. The copies take at most `maxBytes` together: a file that does not fit
 * is left on the server and played from there. Copies live in a folder of this process, removed when
 * the camera goes and at `close`.
 */
export class WebRecordings {
  private dir: Promise<string> | null = null;
  private readonly copies = new Map<string, { url: string; file: string; bytes: number }>();
  /** Bytes of the copies kept and being fetched. */
  private used = 0;

  constructor(private readonly options: { maxBytes: number; root?: string }) {}

  /**
   * The local copy of `url` for this camera (fetched now unless it already has it), or null when the
   * file does not fit in what maxBytes leaves. Throws CAMERA_FETCH_FAILED when the server refuses,
   * redirects or stops sending for `idleMs`; `signal` aborts the transfer. `progress` hears of every chunk (bytes so
   * far, and the length when the server said it).
   */
  async copy(cameraId: string, url: string, signal: AbortSignal, idleMs: number, progress?: (bytes: number, total: number | null) => void): Promise<string | null> {
    const known = this.copies.get(cameraId);
    if (known?.url === url) return known.file;
    await this.forget(cameraId);
    if (this.options.maxBytes <= 0) return null;
    const dir = await (this.dir ??= mkdtemp(path.join(this.options.root ?? tmpdir(), 'skywatch-recordings-')));
    const file = path.join(dir, `${cameraId}.video`);
    const partial = `${file}.part`;
    const idle = new AbortController();
    let timer: NodeJS.Timeout | null = null;
    const awake = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => idle.abort(), idleMs);
    };
    const both = AbortSignal.any([signal, idle.signal]);
    let bytes = 0;
    let tooLarge = false;
    try {
      awake();
      // Redirects are refused, not followed: the host that was checked is the host read from.
      const res = await fetch(withoutCredentials(url), { redirect: 'error', signal: both, headers: basicAuth(url) });
      if (res.status !== 200 || !res.body) throw new Error(`HTTP ${res.status}`);
      const length = Number(res.headers.get('content-length'));
      if (Number.isFinite(length) && length > this.options.maxBytes - this.used) {
        await res.body.cancel();
        return null;
      }
      const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
      body.on('data', (chunk: Buffer) => {
        awake();
        bytes += chunk.length;
        progress?.(bytes, Number.isFinite(length) ? length : null);
        this.used += chunk.length;
        if (this.used > this.options.maxBytes) {
          tooLarge = true;
          body.destroy();
        }
      });
      await pipeline(body, createWriteStream(partial));
      await rename(partial, file);
      this.copies.set(cameraId, { url, file, bytes });
      return file;
    } catch (err) {
      // (close() during a transfer has already set the count to 0.)
      this.used = Math.max(0, this.used - bytes);
      await rm(partial, { force: true });
      if (tooLarge) return null;
      if (signal.aborted) throw err;
      const why = idle.signal.aborted ? `no data for ${idleMs / 1000}s` : String((err as Error).cause ?? (err as Error).message);
      throw new SkywatchError('CAMERA_FETCH_FAILED', `fetching the video file failed: ${why}`, { bytes });
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** Removes the camera's copy (the camera was removed, or its URL changed). */
  async forget(cameraId: string): Promise<void> {
    const known = this.copies.get(cameraId);
    this.copies.delete(cameraId);
    if (!known) return;
    this.used -= known.bytes;
    await rm(known.file, { force: true });
  }

  /** Removes every copy and the folder. */
  async close(): Promise<void> {
    this.copies.clear();
    this.used = 0;
    const dir = this.dir;
    this.dir = null;
    if (dir) await rm(await dir, { recursive: true, force: true });
  }
}

/**
 * `user:pass@` of a camera URL as an Authorization header: ffmpeg sends it so, and fetch refuses a URL
 * that carries credentials.
 */
function basicAuth(url: string): Record<string, string> {
  const { username, password } = new URL(url);
  if (!username && !password) return {};
  return { authorization: `Basic ${Buffer.from(`${decodeURIComponent(username)}:${decodeURIComponent(password)}`).toString('base64')}` };
}

function withoutCredentials(url: string): string {
  const bare = new URL(url);
  bare.username = '';
  bare.password = '';
  return bare.href;
}
