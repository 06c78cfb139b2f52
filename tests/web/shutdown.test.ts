import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { publishTiny } from '../support/tiny-model.js';

const BIN = path.resolve('bin/skywatch.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe('skywatch api', () => {
  it('on SIGTERM finishes a request whose body is still arriving, then exits 0 and refuses new connections', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-api-'));
    const registryDir = path.join(dir, 'registry');
    await publishTiny(new ModelRegistry(new LocalStore(registryDir)), path.join(dir, 'm'), 'v1');
    const port = await freePort();
    const child = spawn('node', [BIN, 'api', '--registry', registryDir, '--port', String(port)], {
      env: { ...process.env, SKYWATCH_STATE_DIR: path.join(dir, 'state'), SKYWATCH_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; (await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status, () => 0)) !== 200; i++) {
        if (i > 300) throw new Error(`api did not become ready:\n${log}`);
        await sleep(100);
      }
      expect(log).toMatch(/loopback only/);

      const jpeg = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 10, g: 10, b: 240 } } }).jpeg().toBuffer();
      // Half a request on the wire, then SIGTERM, then the rest: the request must still be answered.
      const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/predict', headers: { 'content-type': 'image/jpeg', 'content-length': jpeg.length } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.write(jpeg.subarray(0, 100));
        setTimeout(() => {
          child.kill('SIGTERM');
          setTimeout(() => req.end(jpeg.subarray(100)), 400);
        }, 300);
      });
      const { status, body } = await answer;
      expect(status).toBe(200);
      expect(JSON.parse(body).label).toBe('drone');
      expect(await exited).toBe(0);
      expect(log).toMatch(/shutting down/);
      // New connections are refused once it has stopped.
      expect(await fetch(`http://127.0.0.1:${port}/health`).then(() => 'answered', () => 'refused')).toBe('refused');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
