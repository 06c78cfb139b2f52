import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A web server for camera tests and benchmarks: video files with range requests (as nginx or a CDN
 * serves a recording) or without (as python's http.server), and a live MJPEG stream
 * (multipart/x-mixed-replace, as IP cameras send) that never ends.
 */
export interface HttpVideoServer {
  /** URL of a file served (by its name in `files`) or of the live stream (`live.mjpeg`). */
  url(name: string): string;
  /** Requests for files so far (ffprobe, ffmpeg and fetches alike). */
  readonly fileRequests: number;
  close(): Promise<void>;
}

/**
 * `files`: names served and their paths; `root`: every file under a folder, by its relative path.
 * `ranges: false` ignores range requests, as python's http.server does; `redirects` answer 302 to another URL;
 * `basicAuth`: every request needs these credentials.
 */
export async function startHttpVideoServer(options: { files?: Record<string, string>; root?: string; mjpeg?: { frames: Buffer[]; fps: number }; ranges?: boolean; redirects?: Record<string, string>; basicAuth?: { user: string; pass: string } }): Promise<HttpVideoServer> {
  const files = new Map(Object.entries(options.files ?? {}).map(([name, file]) => [name, readFileSync(file)]));
  const underRoot = (name: string): Buffer | undefined => {
    if (!options.root) return undefined;
    const file = path.resolve(options.root, name);
    if (!file.startsWith(path.resolve(options.root) + path.sep)) return undefined;
    try {
      return statSync(file).isFile() ? readFileSync(file) : undefined;
    } catch {
      return undefined;
    }
  };
  const timers = new Set<NodeJS.Timeout>();
  let fileRequests = 0;
  const server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
    const auth = options.basicAuth;
    if (auth && req.headers.authorization !== `Basic ${Buffer.from(`${auth.user}:${auth.pass}`).toString('base64')}`) {
      return void res.writeHead(401, { 'www-authenticate': 'Basic realm="camera"' }).end();
    }
    if (name === 'live.mjpeg' && options.mjpeg) return streamMjpeg(res, options.mjpeg, timers);
    const moved = options.redirects?.[name];
    if (moved) return void res.writeHead(302, { location: moved }).end();
    const body = files.get(name) ?? underRoot(name);
    if (!body) return void res.writeHead(404).end();
    fileRequests++;
    if (options.ranges === false) return void res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': body.length }).end(body);
    sendRange(req, res, body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    get fileRequests() {
      return fileRequests;
    },
    close: async () => {
      for (const t of timers) clearInterval(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The whole file, or the byte range asked for (ffmpeg asks `bytes=N-` and seeks with it). */
function sendRange(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  const headers = { 'content-type': 'video/mp4', 'accept-ranges': 'bytes' };
  if (!range) return void res.writeHead(200, { ...headers, 'content-length': body.length }).end(body);
  const start = Number(range[1]);
  const end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
  if (start >= body.length || start > end) return void res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
  res.writeHead(206, { ...headers, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${body.length}` }).end(body.subarray(start, end + 1));
}

function streamMjpeg(res: ServerResponse, mjpeg: { frames: Buffer[]; fps: number }, timers: Set<NodeJS.Timeout>): void {
  res.writeHead(200, { 'content-type': 'multipart/x-mixed-replace; boundary=frame', 'cache-control': 'no-cache' });
  let i = 0;
  const timer = setInterval(() => {
    const jpeg = mjpeg.frames[i++ % mjpeg.frames.length];
    res.write(`--frame\r\ncontent-type: image/jpeg\r\ncontent-length: ${jpeg.length}\r\n\r\n`);
    res.write(jpeg);
    res.write('\r\n');
  }, 1000 / mjpeg.fps);
  timers.add(timer);
  res.on('close', () => {
    clearInterval(timer);
    timers.delete(timer);
  });
}
