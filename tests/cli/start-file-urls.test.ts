import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../core/free-port.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { makeClip } from '../support/clips.js';
import { publishTiny } from '../support/tiny-model.js';

const BIN = path.resolve('bin/skywatch.mjs');
const prefix = `test-start-files-${process.pid}-${Date.now()}`;
const cleanups: Array<() => Promise<void>> = [];
let servers = 0;
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `skywatch start` on a fresh state folder with a demo clip and a published model; resolves to its URL once the demo camera is live. */
async function startServer(extraEnv: Record<string, string>): Promise<{ url: string; dir: string; demoId: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sw-start-'));
  // A demo clip where `start` looks for one, and a model already published (so nothing is trained).
  makeClip(path.join(dir, 'videos', 'drone', 'demo.mp4'), { moving: true, seconds: 2 });
  await publishTiny(new ModelRegistry(new LocalStore(path.join(dir, 'registry'))), path.join(dir, 'm'), 'v1');
  const port = await freePort();
  const runPrefix = `${prefix}-${++servers}`;
  const child = spawn('node', [BIN, 'start', '--port', String(port), '--registry', path.join(dir, 'registry')], {
    env: { ...withoutSkywatchSettings(process.env), SKYWATCH_STATE_DIR: path.join(dir, 'state'), SKYWATCH_DATA: path.join(dir, 'images'), SKYWATCH_REDIS_PREFIX: runPrefix, SKYWATCH_LOG_LEVEL: 'warn', ...extraEnv },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  cleanups.push(async () => {
    child.kill('SIGTERM');
    await exited;
    const redis = new Redis('redis://127.0.0.1:6379');
    const keys = await redis.keys(`${runPrefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });
  const url = `http://127.0.0.1:${port}`;
  const headers = extraEnv.SKYWATCH_ADMIN_TOKENS ? { authorization: `Bearer ${extraEnv.SKYWATCH_ADMIN_TOKENS}` } : undefined;
  let cameras: Array<{ id: string; url: string; status: { state: string } | null }> = [];
  for (let i = 0; i < 300; i++) {
    const res = await fetch(`${url}/v1/cameras`, { headers }).catch(() => null);
    cameras = res?.ok ? (await res.json()).cameras : [];
    if (cameras[0]?.status?.state === 'live') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(cameras).toHaveLength(1);
  expect(cameras[0].status?.state).toBe('live');
  return { url, dir, demoId: cameras[0].id };
}

/** The environment without SKYWATCH_* variables, so a setting of the shell running the tests does not decide the default tested. */
function withoutSkywatchSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('SKYWATCH_')));
}

async function addCamera(url: string, cameraUrl: string, token?: string): Promise<{ status: number; body: { id?: string; error?: { code: string } } }> {
  const res = await fetch(`${url}/v1/cameras`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ name: 'x', url: cameraUrl }) });
  return { status: res.status, body: await res.json() };
}

describe('skywatch start and file cameras', () => {
  it('plays a video file added by its path with the default settings (no tokens: the API serves this machine alone)', async () => {
    const { url, dir } = await startServer({});
    const clip = makeClip(path.join(dir, 'sky', 'clip.mp4'), { moving: true, seconds: 2 });
    const added = await addCamera(url, clip);
    expect(added.status).toBe(201);
    let state = '';
    for (let i = 0; i < 150 && state !== 'live' && state !== 'ended'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const res = await fetch(`${url}/v1/cameras/${added.body.id}`);
      state = ((await res.json()) as { status: { state: string } | null }).status?.state ?? '';
    }
    expect(['live', 'ended']).toContain(state);
    // A path that is no readable file is refused, with one answer whatever is there.
    const refused = [];
    for (const file of [path.join(dir, 'missing.mp4'), dir]) refused.push((await addCamera(url, file)).body.error?.code);
    expect(refused).toEqual(['CAMERA_URL_INVALID', 'CAMERA_URL_INVALID']);
  }, 120_000);

  it('refuses file paths by default once tokens put the API on a network', async () => {
    const token = 'f'.repeat(40);
    const { url, dir } = await startServer({ SKYWATCH_ADMIN_TOKENS: token });
    const clip = makeClip(path.join(dir, 'sky', 'clip.mp4'), { moving: true, seconds: 1 });
    expect(await addCamera(url, clip, token)).toMatchObject({ status: 400, body: { error: { code: 'CAMERA_URL_SCHEME' } } });
  }, 120_000);

  it('keeps SKYWATCH_ALLOW_FILE_URLS=false: only its own demo camera reads a file, and a file path answers the same whether it exists or not', async () => {
    const { url, dir, demoId } = await startServer({ SKYWATCH_ALLOW_FILE_URLS: 'false' });
    const secret = path.join(dir, 'secret.txt');
    writeFileSync(secret, 'not for cameras');
    const answers = [];
    for (const file of [secret, path.join(dir, 'missing.txt'), `file://${secret}`, dir]) {
      const { status, body } = await addCamera(url, file);
      answers.push({ status, code: body.error?.code });
    }
    expect(answers).toEqual(Array(4).fill({ status: 400, code: 'CAMERA_URL_SCHEME' }));
    // Pointing the demo camera elsewhere takes its exemption away.
    const moved = await fetch(`${url}/v1/cameras/${demoId}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: secret }) });
    expect(moved.status).toBe(400);
  }, 120_000);
});
