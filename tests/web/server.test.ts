import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { requireRole } from '../../web/auth.js';
import { buildServer, type SkywatchServer } from '../../web/server.js';
import { publishTiny } from '../support/tiny-model.js';

const servers: SkywatchServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

type Plugin = (app: FastifyInstance) => Promise<void>;

async function start(env: Record<string, string> = {}, extraPlugins: Plugin[] = []): Promise<{ url: string; server: SkywatchServer; registry: ModelRegistry; dir: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sw-web-'));
  const config = loadConfig({ env: { SKYWATCH_STATE_DIR: path.join(dir, 'state'), SKYWATCH_POLL_INTERVAL_MS: '200', ...env } });
  const registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
  const server = await buildServer({ config, logger: silentLogger, registry, extraPlugins });
  servers.push(server);
  const url = await server.listen(0);
  return { url, server, registry, dir };
}

const image = (r: number, g: number, b: number, format: 'jpeg' | 'png' | 'webp' = 'jpeg', size = 40) =>
  sharp({ create: { width: size, height: size, channels: 3, background: { r, g, b } } })[format]().toBuffer();

/** A real JPEG whose header claims width x height: decoding it would need gigabytes. */
async function jpegBomb(width: number, height: number): Promise<Buffer> {
  const jpeg = await image(1, 2, 3, 'jpeg', 16);
  for (let i = 0; i < jpeg.length - 9; i++) {
    if (jpeg[i] === 0xff && (jpeg[i + 1] === 0xc0 || jpeg[i + 1] === 0xc2)) {
      jpeg.writeUInt16BE(height, i + 5);
      jpeg.writeUInt16BE(width, i + 7);
      break;
    }
  }
  return jpeg;
}

/** A 1x1 PNG whose IHDR (CRC fixed) claims width x height. */
async function pngBomb(width: number, height: number): Promise<Buffer> {
  const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer();
  // Signature (8) + length (4) + "IHDR" (4), then width and height; the CRC covers type and data.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

function form(file: Buffer, name = 'file', type = 'image/jpeg'): FormData {
  const fd = new FormData();
  fd.append(name, new Blob([new Uint8Array(file)], { type }), 'x.jpg');
  return fd;
}

async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('REST API', () => {
  it('starts without a model: 503 on predictions, /health says so, then picks one up when published', async () => {
    const { url, registry, dir } = await start();
    const res = await fetch(`${url}/v1/predict`, { method: 'POST', body: form(await image(200, 30, 30)) });
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe('NO_MODEL');
    expect((await (await fetch(`${url}/health`)).json()).warning).toMatch(/no model/);
    expect((await fetch(`${url}/ready`)).status).toBe(503);
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    await waitFor(async () => (await fetch(`${url}/ready`)).status === 200);
    const ok = await (await fetch(`${url}/v1/predict`, { method: 'POST', body: form(await image(220, 20, 20)) })).json();
    expect(ok).toMatchObject({ label: 'bird', modelVersion: 'v1' });
    expect(ok.confidence).toBeGreaterThan(0.9);
  });

  it('classifies multipart, raw JPEG/PNG/WebP and batches, with topk', async () => {
    const { url, registry, dir, server } = await start();
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    await server.holder.reload();
    const raw = await (await fetch(`${url}/v1/predict?topk=1`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(await image(10, 10, 240, 'png')) })).json();
    expect(raw.label).toBe('drone');
    expect(raw.top).toHaveLength(1);
    const webp = await (await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/webp' }, body: new Uint8Array(await image(240, 10, 10, 'webp')) })).json();
    expect(webp.label).toBe('bird');
    const fd = new FormData();
    fd.append('file', new Blob([new Uint8Array(await image(250, 0, 0))]), 'a.jpg');
    fd.append('file', new Blob([new Uint8Array(Buffer.from("garbage"))]), 'b.jpg');
    fd.append('file', new Blob([new Uint8Array(await image(0, 0, 250))]), 'c.jpg');
    const batch = await (await fetch(`${url}/v1/predict/batch`, { method: 'POST', body: fd })).json();
    expect(batch.predictions[0].label).toBe('bird');
    expect(batch.predictions[1].error.code).toBe('IMAGE_INVALID');
    expect(batch.predictions[2].label).toBe('drone');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/skywatch_predictions_total\{label="drone"\} 2/);
    expect(metrics).toMatch(/skywatch_model_loaded\{version="v1"\} 1/);
    const doc = await (await fetch(`${url}/openapi.json`)).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/predict', '/v1/predict/batch', '/v1/models', '/health', '/ready']));
  });

  it('answers every bad body with a clear code and keeps serving', async () => {
    const { url, registry, dir, server } = await start({ SKYWATCH_BODY_LIMIT_BYTES: '200000', SKYWATCH_MAX_PIXELS: '1000000' });
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    await server.holder.reload();
    const jpeg = await image(200, 0, 0);
    // Headers that claim 100000 x 100000 (PNG) and 60000 x 60000 (JPEG): refused before decoding.
    const bomb = await jpegBomb(60_000, 60_000);
    const png = await pngBomb(100_000, 100_000);
    const cases: Array<[string, RequestInit, number, string]> = [
      ['zero bytes', { headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(Buffer.alloc(0)) }, 400, 'IMAGE_EMPTY'],
      ['garbage', { headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(Buffer.from('definitely not an image')) }, 400, 'IMAGE_INVALID'],
      ['truncated', { headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(jpeg.subarray(0, 120)) }, 400, 'IMAGE_INVALID'],
      ['too large', { headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(Buffer.alloc(300_000, 1)) }, 413, 'PAYLOAD_TOO_LARGE'],
      ['too many pixels', { headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(bomb) }, 400, 'IMAGE_TOO_MANY_PIXELS'],
      ['PNG bomb', { headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) }, 400, 'IMAGE_TOO_MANY_PIXELS'],
      ['PNG bomb in multipart', { body: form(png, 'file', 'image/png') }, 400, 'IMAGE_TOO_MANY_PIXELS'],
      ['truncated PNG', { headers: { 'content-type': 'image/png' }, body: new Uint8Array(png.subarray(0, 30)) }, 400, 'IMAGE_INVALID'],
      ['text as an image', { headers: { 'content-type': 'image/jpeg' }, body: '<html>hello</html>' }, 400, 'IMAGE_INVALID'],
      ['no body', { headers: { 'content-type': 'image/jpeg' } }, 400, 'IMAGE_EMPTY'],
      ['no content type', { body: new Uint8Array(jpeg) }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['broken multipart', { headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\nabc' }, 400, 'BAD_REQUEST'],
      ['wrong type', { headers: { 'content-type': 'application/json' }, body: '{"a":1}' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['unknown type', { headers: { 'content-type': 'application/x-foo' }, body: 'x' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['multipart without file', { body: form(jpeg, 'other') }, 400, 'BAD_REQUEST'],
      ['multipart file too large', { body: form(Buffer.alloc(300_000, 2)) }, 413, 'PAYLOAD_TOO_LARGE'],
      ['bad topk', { headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(jpeg) }, 400, 'BAD_REQUEST'],
    ];
    for (const [name, init, status, code] of cases) {
      const res = await fetch(`${url}/v1/predict${name === 'bad topk' ? '?topk=-3' : ''}`, { method: 'POST', ...init });
      expect([name, res.status]).toEqual([name, status]);
      expect([name, (await res.json()).error.code]).toEqual([name, code]);
    }
    const good = await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(jpeg) });
    expect(good.status).toBe(200);
    expect((await fetch(`${url}/v1/nothing`)).status).toBe(404);
  });

  it('requires tokens when configured: viewer for predictions, admin for management', async () => {
    const { url, registry, dir, server } = await start({ SKYWATCH_VIEWER_TOKENS: 'viewer-token-0123456789', SKYWATCH_ADMIN_TOKENS: 'admin-token-0123456789', SKYWATCH_API_HOST: '127.0.0.1' });
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    await publishTiny(registry, path.join(dir, 'm'), 'v2', true);
    await server.holder.reload();
    const body = await image(200, 0, 0);
    expect((await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body })).status).toBe(401);
    expect((await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg', authorization: 'Bearer wrong' }, body })).status).toBe(401);
    expect((await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg', authorization: 'Bearer viewer-token-0123456789' }, body })).status).toBe(200);
    const asViewer = await fetch(`${url}/v1/models/rollback`, { method: 'POST', headers: { authorization: 'Bearer viewer-token-0123456789' } });
    expect(asViewer.status).toBe(403);
    const asAdmin = await (await fetch(`${url}/v1/models/rollback`, { method: 'POST', headers: { authorization: 'Bearer admin-token-0123456789' } })).json();
    expect(asAdmin).toMatchObject({ version: 'v1', serving: 'v1' });
    // Tokens in URLs are no longer accepted (they end up in logs and histories): a session cookie is.
    expect((await fetch(`${url}/v1/models/v1/report.html?token=viewer-token-0123456789`)).status).toBe(401);
    expect((await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg', authorization: 'bearer viewer-token-0123456789' }, body })).status).toBe(200);
    const login = await fetch(`${url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'viewer-token-0123456789' }) });
    expect(login.status).toBe(200);
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^skywatch_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+/);
    expect(setCookie).not.toContain('viewer-token-0123456789');
    const cookie = setCookie.split(';')[0];
    expect((await fetch(`${url}/v1/models/v1/report.html`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${url}/v1/models/rollback`, { method: 'POST', headers: { cookie } })).status).toBe(403);
    expect((await fetch(`${url}/v1/models/v1/report.html`, { headers: { cookie: `${cookie.slice(0, -3)}xyz` } })).status).toBe(401);
    expect((await fetch(`${url}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'nope' }) })).status).toBe(401);
    const logout = await fetch(`${url}/v1/session`, { method: 'DELETE', headers: { cookie } });
    expect(logout.status).toBe(204);
    expect(logout.headers.get('set-cookie')).toMatch(/^skywatch_session=; .*Max-Age=0/);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('lets other parts add routes guarded by requireRole, summary sources, and documents them', async () => {
    const cameras: Plugin = async (app) => {
      app.get('/v1/things', { preHandler: requireRole('viewer'), schema: { summary: 'things', tags: ['things'] } }, async () => ({ things: [1] }));
      app.delete('/v1/things', { preHandler: requireRole('admin'), schema: { summary: 'delete things', tags: ['things'] } }, async () => ({ deleted: true }));
    };
    const { url, server, registry, dir } = await start({ SKYWATCH_VIEWER_TOKENS: 'viewer-token-0123456789', SKYWATCH_ADMIN_TOKENS: 'admin-token-0123456789' }, [cameras]);
    const viewer = { authorization: 'Bearer viewer-token-0123456789' };
    expect((await fetch(`${url}/v1/things`)).status).toBe(401);
    expect(await (await fetch(`${url}/v1/things`, { headers: viewer })).json()).toEqual({ things: [1] });
    expect((await fetch(`${url}/v1/things`, { method: 'DELETE', headers: viewer })).status).toBe(403);
    expect((await fetch(`${url}/v1/things`, { method: 'DELETE', headers: { authorization: 'Bearer admin-token-0123456789' } })).status).toBe(200);

    server.metrics.registerSummarySource('queue', () => ({ depth: 3 }));
    server.metrics.registerSummarySource('broken', () => {
      throw new Error('redis down');
    });
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    await server.holder.reload();
    await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg', ...viewer }, body: new Uint8Array(await image(0, 0, 220)) });
    const summary = await (await fetch(`${url}/v1/metrics/summary`, { headers: viewer })).json();
    expect(summary).toMatchObject({ serving: { predictions: 1, batches: 1, meanBatchSize: 1 }, inference: { model: 'v1', queued: 0 }, queue: { depth: 3 }, broken: { error: 'redis down' } });
    const info = await (await fetch(`${url}/v1/info`, { headers: viewer })).json();
    expect(info).toMatchObject({ name: 'skywatch', model: { version: 'v1' }, manifest: { labels: ['bird', 'drone'] } });
    expect(info.uptimeSeconds).toBeGreaterThanOrEqual(0);
    const doc = await (await fetch(`${url}/openapi.json`)).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/things', '/v1/info', '/v1/metrics/summary', '/v1/models/reload']));
    expect(doc.paths['/v1/predict'].post.responses).toHaveProperty('415');
    const page = await fetch(`${url}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/swagger/i);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    for (const name of ['skywatch_http_requests_total', 'skywatch_http_request_seconds_bucket', 'skywatch_inference_queue_seconds_bucket', 'skywatch_inference_seconds_bucket', 'skywatch_inference_batch_size_bucket', 'skywatch_errors_total{code="UNAUTHORIZED"}', 'skywatch_process_resident_memory_bytes']) {
      expect(metrics).toContain(name);
    }
  });

  it('binds loopback only when no tokens are configured', async () => {
    const { server } = await start({ SKYWATCH_API_HOST: '0.0.0.0' });
    expect(server.host).toBe('127.0.0.1');
  });

  it('refuses a corrupt model and keeps serving the old one', async () => {
    // Reloads by hand only: a background poll between publishing v2 and corrupting it would load v2.
    const { url, registry, dir, server } = await start({ SKYWATCH_POLL_INTERVAL_MS: '3600000' });
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    await server.holder.reload();
    await publishTiny(registry, path.join(dir, 'm'), 'v2', true);
    await registry.store.write('models/v2/model.onnx', 'corrupted bytes');
    expect(await server.holder.reload(true)).toBe('failed');
    const res = await (await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(await image(200, 0, 0)) })).json();
    expect(res.modelVersion).toBe('v1');
    expect((await (await fetch(`${url}/health`)).json()).lastReloadError).toMatch(/MODEL_CHECKSUM/);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/skywatch_model_reloads_total\{outcome="failed"\} [1-9]/);
  });
});
