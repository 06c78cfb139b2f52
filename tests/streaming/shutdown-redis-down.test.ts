import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runRoles } from '../../app/run-roles.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis-server.js';
import { publishTiny } from '../support/tiny-model.js';

let server: PrivateRedis | undefined;
afterAll(async () => {
  await server?.stop();
});

describe('shutting down while Redis is down', () => {
  it('stops within the shutdown time, leaving behind (and saying so) the parts that wait for Redis, and no connection cries unhandled errors', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-shutdown-down-'));
    server = await startPrivateRedis(dir);
    const registry = path.join(dir, 'registry');
    await publishTiny(new ModelRegistry(new LocalStore(registry)), path.join(dir, 'm'), 'v1');
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: new Writable({ write(c: Buffer, _e, done) { lines.push(c.toString()); done(); } }) });
    const config = loadConfig({
      env: {},
      overrides: { stateDir: path.join(dir, 'state'), registry, redis: { url: server.url, autoStart: false }, api: { port: 0 }, shutdownTimeoutMs: 2_000 },
    });
    const running = await runRoles({ config, logger, registry: new ModelRegistry(new LocalStore(registry)), roles: { api: false, ingest: true, worker: true } });
    // ioredis prints through console.error when a connection that fails has no error listener.
    const printed: string[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => {
      printed.push(args.map(String).join(' '));
    };
    await server.stop();
    // Let every client notice the outage and start reconnecting.
    await new Promise((r) => setTimeout(r, 1_500));
    const started = Date.now();
    await running.stop();
    const took = Date.now() - started;
    console.error = consoleError;
    expect(printed.filter((p) => /Unhandled error event/.test(p))).toEqual([]);
    // The bound is the setting plus the cut connections' own teardown, never "until Redis is back".
    expect(took).toBeLessThan(2_000 + 5_000);
    const leftBehind = lines.map((l) => JSON.parse(l) as { msg: string; part?: string }).filter((l) => /left behind/.test(l.msg));
    expect(leftBehind.map((l) => l.part)).toContain('worker');
  }, 60_000);
});
