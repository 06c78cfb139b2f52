import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../core/free-port.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { startRoleHealthServer } from '../../web/role-health-server.js';
import { publishTiny } from '../support/tiny-model.js';

const run = promisify(execFile);

interface Check { name: string; level: 'ok' | 'warn' | 'fail'; detail: string; fix?: string }

/** Runs the real CLI as a child process, with only SKYWATCH_* settings from `env` (none inherited). */
async function doctor(env: Record<string, string>, json = true): Promise<{ code: number; stdout: string; checks: Record<string, Check>; ok?: boolean }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SKYWATCH_')));
  const args = [path.resolve('bin/skywatch.mjs'), 'doctor', ...(json ? ['--json'] : [])];
  let code = 0;
  let stdout: string;
  try {
    ({ stdout } = await run('node', args, { env: { ...clean, SKYWATCH_LOG_LEVEL: 'silent', ...env } }));
  } catch (err) {
    const e = err as { code: number; stdout: string };
    code = e.code;
    stdout = e.stdout;
  }
  if (!json) return { code, stdout, checks: {} };
  const report = JSON.parse(stdout) as { ok: boolean; checks: Check[] };
  return { code, stdout, ok: report.ok, checks: Object.fromEntries(report.checks.map((c) => [c.name, c])) };
}

const dirs: string[] = [];
const servers: Array<{ close(): unknown }> = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** A state folder with a registry holding one real (tiny) model, a two-label data set and a backbone file. */
async function healthySetup(): Promise<{ root: string; registry: string; version: string; env: Record<string, string> }> {
  const root = mkdtempSync(path.join(tmpdir(), 'sw-doctor-'));
  dirs.push(root);
  const registry = path.join(root, 'registry');
  const version = ModelRegistry.newVersion();
  await publishTiny(new ModelRegistry(new LocalStore(registry)), path.join(root, 'src'), version);
  for (const label of ['bird', 'drone']) {
    mkdirSync(path.join(root, 'data', 'train', label), { recursive: true });
    writeFileSync(path.join(root, 'data', 'train', label, 'a.jpg'), 'x');
  }
  writeFileSync(path.join(root, 'backbone.onnx'), 'not checked beyond existing');
  const env = {
    SKYWATCH_STATE_DIR: path.join(root, 'state'),
    SKYWATCH_REGISTRY: registry,
    SKYWATCH_DATA: path.join(root, 'data'),
    SKYWATCH_BACKBONE: path.join(root, 'backbone.onnx'),
    SKYWATCH_API_PORT: String(await freePort()),
    SKYWATCH_VIEWER_TOKENS: 'v'.repeat(24),
    SKYWATCH_ADMIN_TOKENS: 'a'.repeat(24),
  };
  return { root, registry, version, env };
}

describe('skywatch doctor', () => {
  it('passes on a healthy setup: every check ok, exit code 0', async () => {
    const { env, version } = await healthySetup();
    const { code, ok, checks } = await doctor(env);
    expect(Object.values(checks).filter((c) => c.level !== 'ok')).toEqual([]);
    expect(Object.keys(checks).sort()).toEqual(['backbone', 'data', 'ffmpeg', 'node', 'port', 'redis', 'registry', 'tfjs', 'tokens']);
    expect(checks.registry.detail).toContain(version);
    expect(checks.data.detail).toMatch(/2 images in bird, drone/);
    expect(checks.ffmpeg.detail).toMatch(/^ffmpeg version/);
    expect(checks.tfjs.detail).toMatch(/wasm/);
    expect(ok).toBe(true);
    expect(code).toBe(0);
  });

  it('fails, with a fix for each, on a corrupted model, short tokens, a taken port and no Redis', async () => {
    const { env, registry, version } = await healthySetup();
    appendFileSync(path.join(registry, 'models', version, 'model.onnx'), 'tampered');
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '0.0.0.0', r));
    servers.push(taken);
    const { code, ok, checks } = await doctor({
      ...env,
      SKYWATCH_ADMIN_TOKENS: 'short',
      SKYWATCH_API_PORT: String((taken.address() as { port: number }).port),
      SKYWATCH_REDIS_URL: 'redis://127.0.0.1:1',
      SKYWATCH_REDIS_AUTOSTART: 'false',
      SKYWATCH_DATA: path.join(env.SKYWATCH_STATE_DIR, 'nothing-here'),
    });
    expect(checks.registry).toMatchObject({ level: 'fail', detail: expect.stringMatching(/sha256/), fix: expect.stringMatching(/rollback/) });
    expect(checks.tokens).toMatchObject({ level: 'fail', detail: expect.stringMatching(/1 token/), fix: expect.stringMatching(/random/) });
    expect(checks.port).toMatchObject({ level: 'fail', detail: expect.stringMatching(/EADDRINUSE/), fix: expect.stringMatching(/SKYWATCH_API_PORT/) });
    expect(checks.redis).toMatchObject({ level: 'fail', fix: expect.stringMatching(/SKYWATCH_REDIS_URL/) });
    expect(checks.data).toMatchObject({ level: 'warn', detail: expect.stringMatching(/ENOENT/) });
    expect(ok).toBe(false);
    expect(code).toBe(1);
  });

  it('warns (no failure) for one-machine mode: no tokens, no model yet, Redis to be auto-started, Skywatch already on the port', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sw-doctor-'));
    dirs.push(root);
    const port = await freePort();
    const health = await startRoleHealthServer({ host: '127.0.0.1', port, checks: [] });
    servers.push(health!.app);
    const { code, checks } = await doctor({
      SKYWATCH_STATE_DIR: root,
      SKYWATCH_REGISTRY: path.join(root, 'registry'),
      SKYWATCH_DATA: root,
      SKYWATCH_BACKBONE: path.join(root, 'missing.onnx'),
      SKYWATCH_API_PORT: String(port),
      SKYWATCH_REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(checks.tokens).toMatchObject({ level: 'warn', detail: expect.stringMatching(/127\.0\.0\.1 only/) });
    expect(checks.registry).toMatchObject({ level: 'warn', detail: expect.stringMatching(/no latest\.json/) });
    expect(checks.redis).toMatchObject({ level: 'warn', detail: expect.stringMatching(/private redis-server/) });
    expect(checks.port).toMatchObject({ level: 'warn', detail: expect.stringMatching(/running Skywatch/) });
    expect(checks.backbone.level).toBe('warn');
    expect(checks.data).toMatchObject({ level: 'warn', detail: expect.stringMatching(/0 label folder/) });
    expect(code).toBe(0);
  });

  it('prints one line per check in text mode, marking failures and what to fix', async () => {
    const { env } = await healthySetup();
    const { code, stdout } = await doctor({ ...env, SKYWATCH_VIEWER_TOKENS: 'tiny' }, false);
    const lines = stdout.trim().split('\n');
    expect(lines.filter((l) => /^(ok|warn|FAIL) /.test(l))).toHaveLength(9);
    expect(stdout).toMatch(/^FAIL tokens .*\n\s+-> use long random tokens/m);
    expect(code).toBe(1);
  });
});
