import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../core/free-port.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { makeClip } from '../support/clips.js';
import { publishTiny } from '../support/tiny-model.js';

const BIN = path.resolve('bin/skywatch.mjs');
const prefix = `test-start-files-${process.pid}-${Date.now()}`;
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('skywatch start and file cameras', () => {
  it('keeps SKYWATCH_ALLOW_FILE_URLS=false: only its own demo camera reads a file, and a file path answers the same whether it exists or not', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-start-'));
    // A demo clip where `start` looks for one, and a model already published (so nothing is trained).
    makeClip(path.join(dir, 'videos', 'drone', 'demo.mp4'), { moving: true, seconds: 2 });
    await publishTiny(new ModelRegistry(new LocalStore(path.join(dir, 'registry'))), path.join(dir, 'm'), 'v1');
    const secret = path.join(dir, 'secret.txt');
    writeFileSync(secret, 'not for cameras');
    const port = await freePort();
    const child = spawn('node', [BIN, 'start', '--port', String(port), '--registry', path.join(dir, 'registry')], {
      env: { ...process.env, SKYWATCH_STATE_DIR: path.join(dir, 'state'), SKYWATCH_DATA: path.join(dir, 'images'), SKYWATCH_REDIS_PREFIX: prefix, SKYWATCH_ALLOW_FILE_URLS: 'false', SKYWATCH_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    cleanups.push(async () => {
      child.kill('SIGTERM');
      await exited;
      const redis = new Redis('redis://127.0.0.1:6379');
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    });
    const url = `http://127.0.0.1:${port}`;
    let cameras: Array<{ id: string; url: string; status: { state: string } | null }> = [];
    for (let i = 0; i < 300; i++) {
      const res = await fetch(`${url}/v1/cameras`).catch(() => null);
      cameras = res?.ok ? (await res.json()).cameras : [];
      if (cameras[0]?.status?.state === 'live') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(cameras).toHaveLength(1);
    expect(cameras[0].status?.state).toBe('live');

    const answers = [];
    for (const file of [secret, path.join(dir, 'missing.txt'), `file://${secret}`, dir]) {
      const res = await fetch(`${url}/v1/cameras`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', url: file }) });
      answers.push({ status: res.status, code: (await res.json()).error.code });
    }
    expect(answers).toEqual(Array(4).fill({ status: 400, code: 'CAMERA_URL_SCHEME' }));
    // Pointing the demo camera elsewhere takes its exemption away.
    const moved = await fetch(`${url}/v1/cameras/${cameras[0].id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: secret }) });
    expect(moved.status).toBe(400);
  }, 120_000);
});
