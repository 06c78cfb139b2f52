import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { ensureRedis, redisAnswers } from '../../core/redis-launcher.js';

describe('ensureRedis', () => {
  it('uses the configured Redis when it answers', async () => {
    const handle = await ensureRedis({ url: 'redis://127.0.0.1:6379', stateDir: tmpdir(), autoStart: true, logger: silentLogger });
    expect(handle).toMatchObject({ url: 'redis://127.0.0.1:6379', started: false });
  });

  it('starts a private redis-server when none answers, and stops it', async () => {
    const stateDir = mkdtempSync(path.join(tmpdir(), 'sw-redis-'));
    const handle = await ensureRedis({ url: 'redis://127.0.0.1:1', stateDir, autoStart: true, logger: silentLogger });
    expect(handle.started).toBe(true);
    expect(handle.url).not.toBe('redis://127.0.0.1:1');
    expect(await redisAnswers(handle.url)).toBe(true);
    await handle.stop();
    expect(await redisAnswers(handle.url, 300)).toBe(false);
  });

  it('says what to do when none answers and starting one is not allowed', async () => {
    await expect(ensureRedis({ url: 'redis://127.0.0.1:1', stateDir: tmpdir(), autoStart: false, logger: silentLogger })).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', message: expect.stringMatching(/SKYWATCH_REDIS_URL/) });
  });
});
