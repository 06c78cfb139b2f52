import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { requireRole } from '../../web/auth.js';
import { buildServer, type SkywatchServer } from '../../web/server.js';

const servers: SkywatchServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

/** A WebSocket route like the alert feed's, so the upgrade path is checked too. */
const socketPlugin = async (app: FastifyInstance) => {
  app.get('/v1/echo/ws', { websocket: true, preHandler: requireRole('viewer') }, (socket) => {
    socket.send('hello');
  });
};

async function start(env: Record<string, string> = {}): Promise<{ port: number; url: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sw-guards-'));
  const config = loadConfig({ env: { SKYWATCH_STATE_DIR: path.join(dir, 'state'), ...env } });
  const server = await buildServer({ config, logger: silentLogger, registry: new ModelRegistry(new LocalStore(path.join(dir, 'registry'))), extraPlugins: [socketPlugin] });
  servers.push(server);
  const url = await server.listen(0);
  return { port: Number(new URL(url).port), url };
}

/** A request with headers fetch will not let us set (Host). */
function raw(port: number, options: { method?: string; path: string; headers: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function openSocket(url: string, headers: Record<string, string> = {}, origin?: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers, ...(origin ? { origin } : {}) });
    ws.on('message', (m) => {
      resolve(`message ${String(m)}`);
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(`refused ${res.statusCode}`);
      ws.terminate();
    });
    ws.on('error', (err) => resolve(`error ${err.message}`));
  });
}

describe('no-token mode: Host and Origin', () => {
  it('answers only to loopback Host names (DNS rebinding gets 421), on REST and the WebSocket', async () => {
    const { port, url } = await start();
    const rebound = await raw(port, { path: '/v1/models', headers: { host: `attacker.example:${port}` } });
    expect(rebound.status).toBe(421);
    expect(JSON.parse(rebound.body)).toMatchObject({ error: { code: 'HOST_NOT_ALLOWED' } });
    expect((await raw(port, { path: '/v1/models', headers: { host: `localhost:${port}` } })).status).toBe(200);
    expect((await raw(port, { path: '/v1/models', headers: { host: `127.0.0.1:${port}` } })).status).toBe(200);
    expect(await openSocket(`${url.replace('http', 'ws')}/v1/echo/ws`, { host: `attacker.example:${port}` })).toBe('refused 421');
    expect(await openSocket(`${url.replace('http', 'ws')}/v1/echo/ws`)).toBe('message hello');
  });

  it('refuses mutations and WebSockets from another origin; reads and same-origin pass', async () => {
    const { port, url } = await start();
    const crossSite = await fetch(`${url}/v1/models/rollback`, { method: 'POST', headers: { origin: 'https://evil.example' } });
    expect(crossSite.status).toBe(403);
    expect((await crossSite.json()).error.code).toBe('ORIGIN_NOT_ALLOWED');
    expect((await fetch(`${url}/v1/models/rollback`, { method: 'POST', headers: { origin: 'null' } })).status).toBe(403);
    // Same origin gets through to the route (which has nothing to roll back to).
    const same = await fetch(`${url}/v1/models/rollback`, { method: 'POST', headers: { origin: `http://127.0.0.1:${port}` } });
    expect(same.status).not.toBe(403);
    expect((await fetch(`${url}/v1/models`, { headers: { origin: 'https://evil.example' } })).status).toBe(200);
    expect(await openSocket(`${url.replace('http', 'ws')}/v1/echo/ws`, {}, 'https://evil.example')).toBe('refused 403');
    expect(await openSocket(`${url.replace('http', 'ws')}/v1/echo/ws`, {}, `http://127.0.0.1:${port}`)).toBe('message hello');
  });

  it('lets an operator name extra hosts and origins', async () => {
    const { port, url } = await start({ SKYWATCH_ALLOWED_HOSTS: 'skywatch.lan', SKYWATCH_ALLOWED_ORIGINS: 'https://ops.example' });
    expect((await raw(port, { path: '/v1/models', headers: { host: `skywatch.lan:${port}` } })).status).toBe(200);
    expect((await fetch(`${url}/v1/models/rollback`, { method: 'POST', headers: { origin: 'https://ops.example' } })).status).not.toBe(403);
  });
});

describe('token mode: nothing read before the token, nothing held forever', () => {
  const tokens = { SKYWATCH_VIEWER_TOKENS: 'viewer-token-0123456789', SKYWATCH_API_HOST: '127.0.0.1' };

  it('answers 401 to an unauthenticated upload before reading its body', async () => {
    const { port } = await start(tokens);
    // Headers announce 10 MB; no byte of the body is ever sent. Only a check in onRequest can answer.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: image/jpeg\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`);
      });
      let data = '';
      socket.on('data', (c) => {
        data += c.toString();
        if (data.includes('\r\n\r\n')) {
          resolve(data.split('\r\n')[0]);
          socket.destroy();
        }
      });
      socket.on('error', reject);
    });
    expect(answer).toBe('HTTP/1.1 401 Unauthorized');
  });

  it('still answers who the caller is without credentials, and from a session cookie', async () => {
    const { url } = await start(tokens);
    expect(await (await fetch(`${url}/v1/whoami`)).json()).toEqual({ role: 'none', tokens: true });
    const login = await fetch(`${url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'viewer-token-0123456789' }) });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    expect(await (await fetch(`${url}/v1/whoami`, { headers: { cookie } })).json()).toEqual({ role: 'viewer', tokens: true });
    expect((await fetch(`${url}/v1/whoami`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });

  it('cuts off a client that sends its body too slowly', async () => {
    const { port } = await start({ ...tokens, SKYWATCH_REQUEST_TIMEOUT_MS: '1500' });
    const outcome = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer viewer-token-0123456789\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\nxx`);
      });
      let data = '';
      socket.on('data', (c) => (data += c.toString()));
      socket.on('close', () => resolve(data.split('\r\n')[0] || 'closed'));
    });
    expect(outcome).toBe('HTTP/1.1 408 Request Timeout');
  }, 30_000);
});

describe('multipart uploads', () => {
  const env = { SKYWATCH_BODY_LIMIT_BYTES: String(100 * 1024), SKYWATCH_MAX_REQUEST_BYTES: String(150 * 1024) };

  it('caps the bytes of a whole request, not just each file', async () => {
    const { url } = await start(env);
    const fd = new FormData();
    for (let i = 0; i < 3; i++) fd.append('file', new Blob([new Uint8Array(90 * 1024)], { type: 'image/jpeg' }), `${i}.jpg`);
    const res = await fetch(`${url}/v1/predict/batch`, { method: 'POST', body: fd });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('counts the bytes of a chunked request as they arrive', async () => {
    const { port } = await start(env);
    const boundary = 'sw-boundary';
    const part = (i: number) => `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${i}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n${'x'.repeat(90 * 1024)}\r\n`;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/predict/batch', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 3; i++) req.write(part(i));
      req.end(`--${boundary}--\r\n`);
    });
    expect(status).toBe(413);
  });

  it('refuses a non-file part when it sees it, without waiting for the rest of the body', async () => {
    const { port } = await start(env);
    const boundary = 'sw-boundary';
    const first = `--${boundary}\r\nContent-Disposition: form-data; name="junk"\r\n\r\nvalue\r\n--${boundary}\r\n`;
    const answer = await new Promise<{ head: string; body: string }>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        // Announces far more than it sends: the rest never comes.
        socket.write(`POST /v1/predict/batch HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 100000\r\n\r\n${first}`);
      });
      let data = '';
      socket.on('data', (c) => {
        data += c.toString();
        const [head, body] = data.split('\r\n\r\n');
        if (body && body.includes('}')) {
          resolve({ head: head.split('\r\n')[0], body });
          socket.destroy();
        }
      });
      socket.on('error', reject);
    });
    expect(answer.head).toBe('HTTP/1.1 400 Bad Request');
    expect(answer.body).toContain('"code":"BAD_REQUEST"');
    expect(answer.body).toContain('junk');
  });
});
