import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isSkywatchError } from '../../core/errors.js';
import { WebRecordings } from '../../ingest/web-recordings.js';
import { startHttpVideoServer } from '../../bench/support/http-video-server.js';
import { makeClip } from '../support/clips.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fixture() {
  const dir = mkdtempSync(path.join(tmpdir(), 'sw-web-copies-'));
  const clip = makeClip(path.join(dir, 'clip.mp4'), { moving: true, seconds: 1 });
  const web = await startHttpVideoServer({ files: { 'clip.mp4': clip }, redirects: { 'moved.mp4': 'http://127.0.0.1:9/clip.mp4' } });
  cleanups.push(() => web.close());
  return { dir, clip, web, size: statSync(clip).size };
}

const never = new AbortController().signal;

describe('WebRecordings (local copies of video files on web servers)', () => {
  it('keeps the copies within their byte budget together: a file that does not fit is left on the server until room is made', async () => {
    const { dir, clip, web, size } = await fixture();
    const copies = new WebRecordings({ maxBytes: Math.floor(1.5 * size), root: dir });
    cleanups.push(() => copies.close());
    const heard: Array<[number, number | null]> = [];
    const first = await copies.copy('cam_a', web.url('clip.mp4'), never, 5000, (bytes, total) => heard.push([bytes, total]));
    expect(first).not.toBeNull();
    // Progress for the camera's status: bytes so far, and the length the server gave.
    expect(heard.at(-1)).toEqual([size, size]);
    expect(readFileSync(first!).equals(readFileSync(clip))).toBe(true);
    // Asked again (the next pass): the same copy, not fetched again.
    expect(await copies.copy('cam_a', web.url('clip.mp4'), never, 5000)).toBe(first);
    expect(await copies.copy('cam_b', web.url('clip.mp4'), never, 5000)).toBeNull();
    await copies.forget('cam_a');
    const second = await copies.copy('cam_b', web.url('clip.mp4'), never, 5000);
    expect(second).not.toBeNull();
    const folder = path.dirname(second!);
    expect(readdirSync(folder)).toEqual(['cam_b.video']);
    await copies.close();
    expect(() => statSync(folder)).toThrow();
  });

  it('sends the URL\'s user and password as ffmpeg does (fetch refuses a URL that carries them)', async () => {
    const { dir, clip } = await fixture();
    const web = await startHttpVideoServer({ files: { 'clip.mp4': clip }, basicAuth: { user: 'viewer', pass: 'p@ss word' } });
    cleanups.push(() => web.close());
    const copies = new WebRecordings({ maxBytes: 10_000_000, root: dir });
    cleanups.push(() => copies.close());
    const url = web.url('clip.mp4').replace('http://', 'http://viewer:p%40ss%20word@');
    const copy = await copies.copy('cam_a', url, never, 5000);
    expect(readFileSync(copy!).equals(readFileSync(clip))).toBe(true);
    await expect(copies.copy('cam_b', web.url('clip.mp4'), never, 5000)).rejects.toThrow(/HTTP 401/);
  });

  it('fails with CAMERA_FETCH_FAILED on an error answer or a redirect, leaving no partial file', async () => {
    const { dir, web } = await fixture();
    const copies = new WebRecordings({ maxBytes: 10_000_000, root: dir });
    cleanups.push(() => copies.close());
    for (const [name, why] of [['missing.mp4', /HTTP 404/], ['moved.mp4', /redirect/]] as const) {
      let caught: unknown;
      try {
        await copies.copy('cam_a', web.url(name), never, 5000);
      } catch (err) {
        caught = err;
      }
      expect(isSkywatchError(caught) && caught.code, name).toBe('CAMERA_FETCH_FAILED');
      expect((caught as Error).message, name).toMatch(why);
    }
    const folders = readdirSync(dir).filter((f) => f.startsWith('skywatch-recordings-'));
    expect(folders.flatMap((f) => readdirSync(path.join(dir, f)))).toEqual([]);
  });
});
