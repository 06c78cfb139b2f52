import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { buildServer } from '../../web/server.js';
import { publishTiny } from '../support/tiny-model.js';

const BIN = path.resolve('bin/skywatch.mjs');
const run = promisify(execFile);

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${url}/ready`)).status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}

describe('skywatch api as a process', () => {
  it('finishes in-flight requests on SIGTERM, then exits 0; skywatch predict --server talks to it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-proc-'));
    const registry = path.join(dir, 'registry');
    await publishTiny(new ModelRegistry(new LocalStore(registry)), path.join(dir, 'm'), 'v1');
    const port = 18700 + Math.floor(Math.random() * 200);
    const child = spawn('node', [BIN, 'api', '--registry', registry, '--port', String(port)], {
      env: { ...process.env, SKYWATCH_STATE_DIR: path.join(dir, 'state'), SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_MAX_WAIT_MS: '50' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url);

    const img = path.join(dir, 'blue.jpg');
    writeFileSync(img, await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 0, g: 0, b: 240 } } }).jpeg().toBuffer());
    const { stdout } = await run('node', [BIN, 'predict', img, '--server', url, '--json']);
    expect(JSON.parse(stdout).predictions[0]).toMatchObject({ label: 'drone', modelVersion: 'v1' });

    const body = new Uint8Array(await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 0, b: 0 } } }).jpeg().toBuffer());
    const inFlight = Array.from({ length: 24 }, () => fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body }).then((r) => r.status));
    // SIGTERM once the server is answering this burst (on a loaded machine a fixed delay can fall
    // before it accepted any), with the rest of the burst still in flight.
    await Promise.race(inFlight);
    child.kill('SIGTERM');
    const statuses = await Promise.all(inFlight.map((p) => p.catch(() => 'refused')));
    // Requests already accepted finish with 200; none is cut off mid-way.
    expect(statuses.filter((s) => s !== 200 && s !== 'refused' && s !== 503)).toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(await exited).toBe(0);
  });
});

describe('rate limiting', () => {
  it('answers 429 RATE_LIMITED past the configured rate, per client', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-rate-'));
    const config = loadConfig({ env: { SKYWATCH_STATE_DIR: dir, SKYWATCH_RATE_LIMIT_PER_MINUTE: '5' } });
    const server = await buildServer({ config, logger: silentLogger, registry: new ModelRegistry(new LocalStore(path.join(dir, 'r'))) });
    const url = await server.listen(0);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await fetch(`${url}/health`)).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      const limited = await fetch(`${url}/health`);
      expect(limited.status).toBe(429);
      expect((await limited.json()).error.code).toBe('RATE_LIMITED');
    } finally {
      await server.close();
    }
  });
});
