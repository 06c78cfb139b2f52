import net from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { isSkywatchError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { maskSecrets } from '../../core/redact.js';
import { checkCameraUrl, createCamera, ffmpegInput, patchCamera, publicCamera, type Camera } from '../../ingest/camera.js';
import { cameraHostPolicy, type CameraHostPolicy } from '../../ingest/camera-hosts.js';
import { CameraSupervisor } from '../../ingest/camera-supervisor.js';
import { waitFor } from './helpers.js';
import { MemoryFrameSink } from './memory-frame-sink.js';

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c();
});

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isSkywatchError(err) ? err.code : `UNEXPECTED ${(err as Error).message}`;
  }
  return undefined;
}

/** A TCP listener that records every byte any client sends it. */
async function listener(reply?: (cseq: string) => string): Promise<{ port: number; received: () => string; connections: () => number }> {
  let data = '';
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const cseq = /CSeq: *(\d+)/i.exec(chunk.toString('latin1'))?.[1];
      if (reply && cseq) socket.write(reply(cseq));
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open.push(() => new Promise((r) => server.close(() => r())));
  return { port: (server.address() as net.AddressInfo).port, received: () => data, connections: () => connections };
}

const loopbackAllowed: CameraHostPolicy = cameraHostPolicy({ allowHosts: [] }, false);
const tokenMode: CameraHostPolicy = cameraHostPolicy({ allowHosts: [] }, true);

function supervise(url: string, hosts: CameraHostPolicy): CameraSupervisor {
  // A stored record as it might be in Redis from before these rules: the URL is used as stored.
  const camera: Camera = { id: 'cam_url', name: 'url', url, fps: 5, enabled: true, motion: {}, createdAt: 1, updatedAt: 1 };
  const supervisor = new CameraSupervisor({ camera, pipeline: new MemoryFrameSink().pipelines({ maxInFlight: 2 }), allowFileUrls: false, watchdogMs: 3000, connectTimeoutMs: 4000, backoffMinMs: 200, backoffMaxMs: 400, hosts });
  open.push(() => supervisor.stop());
  return supervisor;
}

describe('camera URLs that smuggle bytes', () => {
  it('refuses control characters, spaces, NUL and DEL anywhere in the URL', () => {
    const rules = { allowFileUrls: false, defaultFps: 5, hosts: loopbackAllowed };
    for (const url of ['rtsp://127.0.0.1:6379/x\r\nSET k 1\r\nX: y', 'rtsp://cam/a\nb', 'rtsp://cam/a\tb', 'rtsp://cam/a b', 'rtsp://cam/a\u0000b', 'rtsp://cam/a\u007fb', 'rtsp://u:p ss@cam/x', 'http://cam/\u0085x']) {
      expect(code(() => createCamera({ name: 'x', url }, rules)), JSON.stringify(url)).toBe('CAMERA_URL_INVALID');
    }
    const cam = createCamera({ name: 'x', url: 'rtsp://cam/ok' }, rules);
    expect(code(() => patchCamera(cam, { url: 'rtsp://cam/a\r\nSET k 1' }, rules))).toBe('CAMERA_URL_INVALID');
  });

  it('stores and hands ffmpeg exactly the normalised URL it checked', () => {
    const rules = { allowFileUrls: false, defaultFps: 5, hosts: loopbackAllowed };
    const cam = createCamera({ name: 'x', url: 'rtsp://user:p@ss@cam.example:554/live' }, rules);
    expect(cam.url).toBe('rtsp://user:p%40ss@cam.example:554/live');
    expect(ffmpegInput(cam, false, 1000, loopbackAllowed).input).toBe(cam.url);
    expect(checkCameraUrl('HTTP://Cam.Example/a/../b', false, loopbackAllowed).url).toBe('http://cam.example/b');
  });

  it('a CRLF URL already in the store never reaches the socket it names; a clean one does', async () => {
    const target = await listener();
    const evil = supervise(`rtsp://127.0.0.1:${target.port}/x\r\nSET k 1\r\nX: y`, loopbackAllowed);
    evil.start();
    await waitFor('the CRLF camera to fail', () => evil.status().state === 'failed', 20_000);
    expect(evil.status().lastError).toMatch(/control character/);

    // The control: the same listener does receive what a valid camera URL sends.
    const clean = supervise(`rtsp://127.0.0.1:${target.port}/x`, loopbackAllowed);
    clean.start();
    await waitFor('ffprobe to send its RTSP request', () => target.received().includes('RTSP/1.0'), 30_000);
    expect(target.received()).toContain(`OPTIONS rtsp://127.0.0.1:${target.port}/x RTSP/1.0`);
    expect(target.received()).not.toContain('SET k 1');
    await clean.stop();
  }, 60_000);
});

describe('camera hosts', () => {
  it('with tokens, refuses loopback, link-local and odd spellings of them by default', () => {
    const rules = { allowFileUrls: false, defaultFps: 5, hosts: tokenMode };
    for (const url of ['rtsp://127.0.0.1:6379/x', 'rtsp://localhost/x', 'rtsp://cam.localhost/x', 'rtsp://[::1]/x', 'rtsp://[::ffff:127.0.0.1]/x', 'http://169.254.169.254/latest/meta-data', 'http://0x7f.1/', 'http://2130706433/', 'rtsp://0.0.0.0/x', 'rtsp://[fe80::1]/x', 'rtsp://224.0.0.1/x']) {
      expect(code(() => createCamera({ name: 'x', url }, rules)), url).toBe('CAMERA_URL_HOST');
    }
    // Numeric forms that getaddrinfo would read as 127.0.0.1 are refused outright under rtsp.
    for (const url of ['rtsp://2130706433/x', 'rtsp://127.1/x', 'rtsp://0x7f000001/x', 'rtsp://0177.0.0.1/x']) {
      expect(code(() => createCamera({ name: 'x', url }, rules)), url).toBe('CAMERA_URL_INVALID');
    }
    expect(createCamera({ name: 'x', url: 'rtsp://192.168.1.20/x' }, rules).url).toBe('rtsp://192.168.1.20/x');
  });

  it('without tokens, allows loopback but still refuses link-local; an allow list is the whole list', () => {
    expect(code(() => checkCameraUrl('rtsp://127.0.0.1:8554/x', false, loopbackAllowed))).toBeUndefined();
    expect(code(() => checkCameraUrl('http://169.254.169.254/', false, loopbackAllowed))).toBe('CAMERA_URL_HOST');
    const only = cameraHostPolicy({ allowHosts: ['10.1.0.0/16', '*.cams.example'] }, true);
    expect(code(() => checkCameraUrl('rtsp://10.1.2.3/x', false, only))).toBeUndefined();
    expect(code(() => checkCameraUrl('rtsp://door.cams.example/x', false, only))).toBeUndefined();
    expect(code(() => checkCameraUrl('rtsp://10.2.0.1/x', false, only))).toBe('CAMERA_URL_HOST');
    expect(code(() => checkCameraUrl('rtsp://cams.example.evil/x', false, only))).toBe('CAMERA_URL_HOST');
  });

  it('checks what a host name resolves to before ffmpeg connects', async () => {
    const target = await listener();
    // The name itself is not listed; the address it resolves to is.
    const supervisor = supervise(`rtsp://localhost:${target.port}/x`, { allow: [], deny: ['127.0.0.0/8', '::1/128'] });
    supervisor.start();
    await waitFor('the camera to fail', () => supervisor.status().state === 'failed', 20_000);
    expect(supervisor.status().lastError).toMatch(/resolves to/);
    expect(target.connections()).toBe(0);
  }, 30_000);
});

describe('camera credentials', () => {
  it('masks user, password and credential query parameters from the stored URL, whatever they hold', () => {
    const legacy = (url: string): Camera => ({ id: 'cam_x', name: 'x', url, fps: 5, enabled: true, motion: {}, createdAt: 1, updatedAt: 1 });
    const shown = [
      publicCamera(legacy('rtsp://admin:pa ss@wd9@cam/x')).url,
      publicCamera(legacy('http://cam/video.cgi?user=admin&passwd=hunter2&auth=YWRtaW4&token=t0k3n&fps=5')).url,
      publicCamera(createCamera({ name: 'x', url: 'rtsp://op%20erator:s3cr%40t@cam/live?Password=also-secret' }, { allowFileUrls: false, defaultFps: 5 })).url,
    ];
    expect(shown[1]).toBe('http://cam/video.cgi?user=***&passwd=***&auth=***&token=***&fps=5');
    expect(shown[2]).toBe('rtsp://***:***@cam/live?Password=***');
    for (const secret of ['pa ss', 'pa%20ss', 'wd9', 'admin', 'hunter2', 'YWRtaW4', 't0k3n', 'erator', 's3cr', 'also-secret']) {
      expect(shown.join(' '), secret).not.toContain(secret);
    }
    // Free text that quotes the URL in another encoding (ffmpeg decodes it) is masked too.
    expect(maskSecrets('401 for user "op erator" with s3cr@t at cam', 'rtsp://op%20erator:s3cr%40t@cam/live')).toBe('401 for user "***" with *** at cam');
  });

  it("keeps credentials out of a failing camera's lastError and log lines", async () => {
    // Answers like a camera that refuses the credentials: ffprobe fails and quotes the URL.
    const target = await listener((cseq) => `RTSP/1.0 401 Unauthorized\r\nCSeq: ${cseq}\r\nWWW-Authenticate: Basic realm="cam"\r\n\r\n`);
    const lines: string[] = [];
    const camera: Camera = { id: 'cam_cred', name: 'cred', url: `rtsp://viewer:p%40ss%20w0rd@127.0.0.1:${target.port}/live?auth=tok-9f8e7d`, fps: 5, enabled: true, motion: {}, createdAt: 1, updatedAt: 1 };
    const logger = createLogger({ level: 'debug', destination: new Writable({ write(c: Buffer, _e, done) { lines.push(c.toString()); done(); } }) });
    const supervisor = new CameraSupervisor({ camera, pipeline: new MemoryFrameSink().pipelines({ maxInFlight: 2 }), allowFileUrls: false, watchdogMs: 20_000, connectTimeoutMs: 30_000, backoffMinMs: 200, backoffMaxMs: 400, hosts: loopbackAllowed, logger });
    open.push(() => supervisor.stop());
    supervisor.start();
    // The listener never answers like an RTSP server: ffprobe gives up and says why.
    await waitFor("ffprobe's refusal", () => /ffprobe/.test(supervisor.status().lastError ?? ''), 40_000);
    const text = `${supervisor.status().lastError} ${lines.join('')}`;
    for (const secret of ['p@ss w0rd', 'p%40ss%20w0rd', 'tok-9f8e7d', 'viewer']) expect(text, secret).not.toContain(secret);
    expect(text).toContain('127.0.0.1');
  }, 60_000);
});
