import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { runRoles, type RunningRoles } from '../../cli/commands/streaming-runtime.js';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { AlertStream, type Alert, type AlertInput } from '../../queue/alert-stream.js';
import { createRedis } from '../../queue/redis-connection.js';
import { screenshot } from './browser.js';
import { publishTiny } from './tiny-model.js';

export const ADMIN = 'admin-token-for-dashboard-tests';
export const VIEWER = 'viewer-token-for-dashboard-tests';
const DIST = path.resolve('web/dist/index.html');

export interface DashboardServer {
  url: string;
  root: string;
  prefix: string;
  registry: ModelRegistry;
  /** Writes an alert event into the real live feed (the Redis alert stream the page reads). */
  alert(input: Partial<AlertInput> & { cameraId: string }, snapshot?: Buffer | null): Promise<Alert>;
  stop(): Promise<void>;
}

/** Builds the dashboard when web/dist is missing (a fresh checkout). */
export function ensureDashboardBuilt(): void {
  if (!existsSync(DIST)) execFileSync('npx', ['vite', 'build', '--config', 'web/dashboard/vite.config.ts', '--logLevel', 'warn']);
}

/**
 * A real Skywatch API (and, when asked, ingest) on real Redis with admin and viewer tokens, two
 * published tiny models (v1 with a report, v2 latest), and a writer into its alert stream.
 */
export async function startDashboardServer(name: string, opts: { ingest?: boolean } = {}): Promise<DashboardServer> {
  ensureDashboardBuilt();
  const prefix = `test-${name}-${process.pid}-${Date.now()}`;
  const root = mkdtempSync(path.join(tmpdir(), `sw-${name}-`));
  const registryDir = path.join(root, 'registry');
  const registry = new ModelRegistry(new LocalStore(registryDir));
  await publishTiny(registry, path.join(root, 'm'), 'v1');
  await publishTiny(registry, path.join(root, 'm'), 'v2');
  const config = loadConfig({
    env: {},
    overrides: {
      stateDir: path.join(root, 'state'), registry: registryDir, redis: { prefix },
      api: { port: 0, host: '127.0.0.1', adminTokens: [ADMIN], viewerTokens: [VIEWER] },
      // Test cameras are on loopback, which the token mode's default camera host policy refuses.
      ingest: { allowFileUrls: true, backoffMinMs: 200, backoffMaxMs: 1000, allowHosts: ['127.0.0.0/8'] },
    },
  });
  const running: RunningRoles = await runRoles({ config, logger: silentLogger, registry, roles: { api: true, ingest: !!opts.ingest, worker: false } });
  const url = `http://127.0.0.1:${(running.server!.app.server.address() as { port: number }).port}/`;
  const redis = createRedis('redis://127.0.0.1:6379');
  const stream = new AlertStream(redis, prefix, 10_000);
  return {
    url,
    root,
    prefix,
    registry,
    async alert(input, snapshot = null) {
      const now = Date.now();
      return stream.add({ label: 'drone', score: 0.9, firstAt: now, lastAt: now, frames: 3, box: null, modelVersion: 'v2', status: 'open', ...input, hasSnapshot: !!snapshot }, snapshot);
    },
    async stop() {
      await running.stop();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A small JPEG of one colour: a snapshot the browser can decode. */
export async function jpeg(r: number, g: number, b: number, width = 160, height = 120): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).jpeg().toBuffer();
}

/** A page whose browser already has a dashboard session for `token` (as if typed once before), at the given viewport. */
export async function pageWithToken(browser: Browser, url: string, token: string | null, viewport = { width: 1440, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  // The context's request client shares its cookies: the HttpOnly session cookie lands in the browser.
  if (token) {
    const res = await context.request.post(`${url}v1/session`, { data: { token } });
    if (!res.ok()) throw new Error(`session for the test page refused: ${res.status()}`);
  }
  const page = await context.newPage();
  return { context, page };
}

/** A full-page screenshot taken from the top, so the sticky header sits where it belongs. */
export async function shot(page: Page, name: string): Promise<string> {
  await page.evaluate(() => window.scrollTo(0, 0));
  return screenshot(page, name);
}
