import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSkywatchError } from '../../core/errors.js';
import { Backoff } from '../../ingest/backoff.js';
import { cameraSource, createCamera, ffmpegInput, patchCamera, publicCamera } from '../../ingest/camera.js';

const rules = { allowFileUrls: false, defaultFps: 5 };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isSkywatchError(err) ? err.code : 'UNEXPECTED';
  }
  return undefined;
}

describe('camera URLs', () => {
  it('accepts rtsp, rtsps, http and https and refuses every other scheme', () => {
    expect(cameraSource('rtsp://10.0.0.2:554/stream', false)).toBe('rtsp');
    expect(cameraSource('rtsps://cam.example/live', false)).toBe('rtsp');
    expect(cameraSource('http://cam/mjpeg', false)).toBe('http');
    expect(cameraSource('https://cdn.example/live.m3u8', false)).toBe('http');
    for (const url of ['ftp://x/y', 'concat:/etc/passwd|/etc/hosts', 'pipe:0', 'data:video/mp4;base64,AAAA', 'subfile,,start,0,end,1,,:/etc/passwd', 'javascript:alert(1)', 'udp://1.2.3.4:1234', 'srt://1.2.3.4:9000']) {
      expect(code(() => cameraSource(url, true)), url).toBe('CAMERA_URL_SCHEME');
    }
    expect(code(() => cameraSource('rtsp://', false))).toBe('CAMERA_URL_INVALID');
  });

  it('takes file paths only when allowed, and only to files that exist', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-cam-'));
    const clip = path.join(dir, 'clip.mp4');
    writeFileSync(clip, 'x');
    expect(code(() => cameraSource(clip, false))).toBe('CAMERA_URL_SCHEME');
    expect(cameraSource(clip, true)).toBe('file');
    expect(cameraSource(`file://${clip}`, true)).toBe('file');
    expect(code(() => cameraSource(path.join(dir, 'missing.mp4'), true))).toBe('CAMERA_URL_INVALID');
    const cam = createCamera({ name: 'demo', url: clip }, { allowFileUrls: true, defaultFps: 5 });
    expect(ffmpegInput(cam, true, 1000)).toMatchObject({ input: clip, realtime: true, playOnce: false, replay: true });
    // Play once: the file is read at its rate to its end, then the camera reports `ended`.
    const once = createCamera({ name: 'once', url: clip, loop: false }, { allowFileUrls: true, defaultFps: 5 });
    expect(once.loop).toBe(false);
    expect(ffmpegInput(once, true, 1000)).toMatchObject({ realtime: true, playOnce: true, replay: false });
    expect(code(() => createCamera({ name: 'bad', url: clip, loop: 'no' }, { allowFileUrls: true, defaultFps: 5 }))).toBe('BAD_REQUEST');
  });

  it('reads RTSP over TCP with a socket timeout behind the watchdog', () => {
    const cam = createCamera({ name: 'a', url: 'rtsp://u:p@cam/s' }, rules);
    expect(ffmpegInput(cam, false, 5000).options).toEqual(['-rtsp_transport', 'tcp', '-timeout', '10000000', '-threads', '1']);
  });
});

describe('camera records', () => {
  it('validates a create request, fills defaults and masks credentials in the public view', () => {
    const cam = createCamera({ name: ' Roof ', url: 'rtsp://admin:hunter2@10.0.0.9/live', motion: { threshold: 30 } }, rules, 1000);
    expect(cam).toMatchObject({ name: 'Roof', fps: 5, enabled: true, motion: { threshold: 30 }, createdAt: 1000 });
    expect(cam.id).toMatch(/^cam_[0-9a-f]{12}$/);
    expect(cam.url).toContain('hunter2');
    const shown = JSON.stringify(publicCamera(cam));
    expect(shown).not.toContain('hunter2');
    expect(shown).not.toContain('admin');
    expect(publicCamera(cam).url).toBe('rtsp://***:***@10.0.0.9/live');
  });

  it('refuses bad fields with the field named', () => {
    for (const body of [{ name: '', url: 'rtsp://a/b' }, { name: 'x', url: 'rtsp://a/b', fps: 0 }, { name: 'x', url: 'rtsp://a/b', fps: 61 }, { name: 'x', url: 'rtsp://a/b', extra: 1 }, { name: 'x', url: 'rtsp://a/b', motion: { threshold: 999 } }, null, 'rtsp://a/b']) {
      expect(code(() => createCamera(body, rules)), JSON.stringify(body)).toBe('BAD_REQUEST');
    }
    try {
      createCamera({ name: 'x', url: 'rtsp://a/b', fps: 100 }, rules);
    } catch (err) {
      expect(isSkywatchError(err) && err.details?.field).toBe('fps');
    }
    expect(code(() => createCamera({ name: 'x', url: 'file:///etc/passwd' }, rules))).toBe('CAMERA_URL_SCHEME');
  });

  it('patches keep the id and creation time, merge motion settings and re-check the URL', () => {
    const cam = createCamera({ name: 'a', url: 'rtsp://cam/s', motion: { threshold: 20, minArea: 50 } }, rules, 1000);
    expect(code(() => patchCamera(cam, { id: 'other' }, rules))).toBe('BAD_REQUEST');
    const next = patchCamera(cam, { fps: 2, motion: { minArea: 80 } }, rules, 500);
    expect(next).toMatchObject({ id: cam.id, createdAt: 1000, fps: 2, motion: { threshold: 20, minArea: 80 } });
    // The change is visible to ingestors even when clocks disagree.
    expect(next.updatedAt).toBeGreaterThan(cam.updatedAt);
    expect(code(() => patchCamera(cam, { url: 'ftp://cam/s' }, rules))).toBe('CAMERA_URL_SCHEME');
  });
});

describe('a crop stream beside the main one', () => {
  it('is checked like the URL (errors name cropUrl), masked in the public view, read by ffmpeg as checked, and removed by null', () => {
    const cam = createCamera({ name: 'roof', url: 'rtsp://admin:hunter2@10.0.0.9/sub', cropUrl: ' rtsp://admin:hunter2@10.0.0.9/main ' }, rules, 1000);
    expect(cam.cropUrl).toBe('rtsp://admin:hunter2@10.0.0.9/main');
    expect(publicCamera(cam).cropUrl).toBe('rtsp://***:***@10.0.0.9/main');
    expect(JSON.stringify(publicCamera(cam))).not.toContain('hunter2');
    expect(ffmpegInput(cam, false, 8000, undefined, 'crop').input).toBe('rtsp://admin:hunter2@10.0.0.9/main');
    expect(ffmpegInput(cam, false, 8000).input).toBe('rtsp://admin:hunter2@10.0.0.9/sub');
    for (const [cropUrl, expected] of [['ftp://cam/main', 'CAMERA_URL_SCHEME'], ['/etc/passwd', 'CAMERA_URL_SCHEME'], ['rtsp://cam/a\r\nx', 'CAMERA_URL_INVALID'], ['', 'BAD_REQUEST']] as const) {
      let caught: unknown;
      try {
        createCamera({ name: 'x', url: 'rtsp://cam/sub', cropUrl }, rules);
      } catch (err) {
        caught = err;
      }
      expect(isSkywatchError(caught) && caught.code, cropUrl).toBe(expected);
      expect(isSkywatchError(caught) && caught.details?.field, cropUrl).toBe('cropUrl');
    }
    const patched = patchCamera(cam, { cropUrl: 'rtsp://10.0.0.9/hd' }, rules, 2000);
    expect(patched.cropUrl).toBe('rtsp://10.0.0.9/hd');
    expect(patched.url).toBe(cam.url);
    expect(code(() => patchCamera(cam, { cropUrl: 'gopher://x/' }, rules))).toBe('CAMERA_URL_SCHEME');
    const removed = patchCamera(cam, { cropUrl: null }, rules, 3000);
    expect('cropUrl' in removed).toBe(false);
    expect(code(() => ffmpegInput(removed, false, 8000, undefined, 'crop'))).toBe('CAMERA_URL_INVALID');
    // Untouched by a patch of other fields.
    expect(patchCamera(cam, { fps: 2 }, rules).cropUrl).toBe(cam.cropUrl);
  });
});

describe('Backoff', () => {
  it('doubles its ceiling up to the maximum, draws below it, and resets', () => {
    const draws = [0.999, 0.999, 0.999, 0.999, 0.999, 0.5, 0];
    const b = new Backoff({ minMs: 100, maxMs: 1000, random: () => draws.shift()! });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([99, 199, 399, 799, 999]);
    expect(b.next()).toBe(500);
    // Never a tight loop: at least half the minimum.
    expect(b.next()).toBe(50);
    b.reset();
    expect(b.ceiling()).toBe(100);
    expect(() => new Backoff({ minMs: 0, maxMs: 10 })).toThrow(RangeError);
  });
});
