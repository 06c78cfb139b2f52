import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

async function doctor(env: Record<string, string>): Promise<{ code: number; report: { ok: boolean; checks: Array<{ name: string; level: string; fix?: string }> } }> {
  try {
    const { stdout } = await run('node', [path.resolve('bin/skywatch.mjs'), 'doctor', '--json'], { env: { ...process.env, ...env } });
    return { code: 0, report: JSON.parse(stdout) };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, report: JSON.parse(e.stdout) };
  }
}

describe('skywatch doctor', () => {
  it('reports real checks and fails, with a fix, on what is broken', async () => {
    const state = mkdtempSync(path.join(tmpdir(), 'sw-doctor-'));
    const { code, report } = await doctor({ SKYWATCH_STATE_DIR: state, SKYWATCH_REGISTRY: path.join(state, 'registry'), SKYWATCH_ADMIN_TOKENS: 'short', SKYWATCH_API_PORT: '18999' });
    const by = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(by.ffmpeg.level).toBe('ok');
    expect(by.redis.level).toBe('ok');
    expect(by.registry.level).toBe('warn');
    expect(by.tokens).toMatchObject({ level: 'fail', fix: expect.stringMatching(/random/) });
    expect(report.ok).toBe(false);
    expect(code).toBe(1);
  });

  it('passes on a healthy setup', async () => {
    const state = mkdtempSync(path.join(tmpdir(), 'sw-doctor-'));
    const { code, report } = await doctor({ SKYWATCH_STATE_DIR: state, SKYWATCH_REGISTRY: path.join(state, 'registry'), SKYWATCH_API_PORT: '18998' });
    expect(report.checks.filter((c) => c.level === 'fail')).toEqual([]);
    expect(code).toBe(0);
  });
});
