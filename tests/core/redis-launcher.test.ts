import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { ensureRedis, probeUrl, redisAnswers } from '../../core/redis-launcher.js';

// Port 1 is privileged and unused here: nothing answers there, so the launcher must act.
const DEAD = 'redis://127.0.0.1:1';
const dirs: string[] = [];
const stateDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'sw-redis-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('ensureRedis', () => {
  it('uses the configured Redis when it answers, and starts nothing', async () => {
    const dir = stateDir();
    const handle = await ensureRedis({ url: 'redis://127.0.0.1:6379', stateDir: dir, autoStart: true, logger: silentLogger });
    expect(handle).toMatchObject({ url: 'redis://127.0.0.1:6379', started: false });
    expect(existsSync(path.join(dir, 'redis'))).toBe(false);
    await handle.stop();
    expect(await redisAnswers('redis://127.0.0.1:6379')).toBe(true);
  });

  it('starts a private redis-server under the state folder when none answers, without persistence, and stops it', async () => {
    const dir = stateDir();
    const handle = await ensureRedis({ url: DEAD, stateDir: dir, autoStart: true, logger: silentLogger });
    expect(handle.started).toBe(true);
    expect(handle.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    const client = new Redis(handle.url);
    expect(await client.set('k', 'v')).toBe('OK');
    expect(await client.config('GET', 'save')).toEqual(['save', '']);
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    expect(await client.config('GET', 'dir')).toEqual(['dir', path.join(dir, 'redis')]);
    client.disconnect();
    await handle.stop();
    expect(await redisAnswers(handle.url, 300)).toBe(false);
    await handle.stop(); // a second stop is harmless
    expect(readdirSync(path.join(dir, 'redis'))).toEqual(['redis.log']);
  });

  it('says what to do when none answers and starting one is not allowed', async () => {
    await expect(ensureRedis({ url: DEAD, stateDir: stateDir(), autoStart: false, logger: silentLogger })).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', message: expect.stringMatching(/SKYWATCH_REDIS_URL.*SKYWATCH_REDIS_AUTOSTART/) });
  });

  it('says how to install redis-server when it is not on PATH', async () => {
    const saved = process.env.PATH;
    process.env.PATH = stateDir(); // an empty folder: no redis-server to find
    try {
      await expect(ensureRedis({ url: DEAD, stateDir: stateDir(), autoStart: true, logger: silentLogger })).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', message: expect.stringMatching(/apt-get install -y redis-server/) });
    } finally {
      process.env.PATH = saved;
    }
  });

  it('never starts a cluster: a dead seed node is an error naming it', async () => {
    expect(probeUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7000')).toBe('redis://10.0.0.1:7000');
    await expect(ensureRedis({ url: 'redis+cluster://127.0.0.1:1,127.0.0.1:2', stateDir: stateDir(), autoStart: true, logger: silentLogger })).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', message: expect.stringMatching(/127\.0\.0\.1:1/) });
  });
});
