import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRoles, type RunningRoles } from '../../app/run-roles.js';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { createRedis } from '../../queue/redis-connection.js';
import { CHROMIUM, launchBrowser, screenshot } from '../support/browser.js';
import { publishTiny } from '../support/tiny-model.js';

/**
 * The dashboard in Debian's Chromium against a real Skywatch (API, ingest and workers in one process,
 * real Redis, real ONNX models). The tiny model calls sky-blue "drone", so the shared drone clip
 * (or a generated sky clip) raises drone alerts.
 */
const ADMIN = 'admin-token-for-the-browser-test';
const CLIP = path.resolve('../shared/data/videos/drone/V_DRONE_002.mp4');
const DIST = path.resolve('web/dist/index.html');
const prefix = `test-dash-${process.pid}-${Date.now()}`;

let running: RunningRoles;
let browser: Browser;
let page: Page;
let url: string;
let root: string;

describe.skipIf(!existsSync(CHROMIUM))('dashboard in a real browser', () => {
  beforeAll(async () => {
    if (!existsSync(DIST)) execFileSync('npx', ['vite', 'build', '--config', 'web/dashboard/vite.config.ts', '--logLevel', 'warn']);
    root = mkdtempSync(path.join(tmpdir(), 'sw-dash-'));
    const registryDir = path.join(root, 'registry');
    const registry = new ModelRegistry(new LocalStore(registryDir));
    await publishTiny(registry, path.join(root, 'm'), 'v1');
    await publishTiny(registry, path.join(root, 'm'), 'v2');
    const config = loadConfig({
      env: {},
      overrides: { stateDir: path.join(root, 'state'), registry: registryDir, redis: { prefix }, api: { port: 0, host: '127.0.0.1', adminTokens: [ADMIN] }, ingest: { allowFileUrls: true }, alerts: { threshold: 0.6 } },
    });
    running = await runRoles({ config, logger: silentLogger, registry, roles: { api: true, ingest: true, worker: true } });
    url = `http://127.0.0.1:${(running.server!.app.server.address() as { port: number }).port}/`;
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    const redis = createRedis('redis://127.0.0.1:6379');
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('asks for the token once, keeps it, and shows the live connection', async () => {
    await page.goto(url);
    await page.locator('#token-input').fill(ADMIN);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 15_000 });
    // The token became an HttpOnly session cookie; the page keeps no copy.
    expect(await page.evaluate(() => localStorage.getItem('skywatch.token'))).toBeNull();
    expect((await page.context().cookies()).find((c) => c.name === 'skywatch_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await screenshot(page, 'dashboard-1-alerts-empty');
  });

  it('classifies an uploaded image and shows label, bars and model version', async () => {
    await page.goto(`${url}#/predict`);
    const file = path.join(root, 'sky.jpg');
    writeFileSync(file, await sharp({ create: { width: 120, height: 90, channels: 3, background: { r: 40, g: 90, b: 230 } } }).jpeg().toBuffer());
    await page.setInputFiles('#predict-files', file);
    const result = page.locator('.prediction .result');
    await result.waitFor({ timeout: 15_000 });
    expect(await result.locator('.label').textContent()).toBe('drone');
    expect(await page.locator('.prediction meter').count()).toBe(2);
    expect(await page.locator('.prediction').textContent()).toMatch(/model v2/);
    await screenshot(page, 'dashboard-2-predict');
  });

  it('adds a camera (validation shown next to the field), sees it live, and a drone alert with its snapshot', async () => {
    await page.goto(`${url}#/cameras`);
    await page.getByLabel('Name').fill('bad one');
    await page.getByLabel(/Stream URL/).fill('ftp://example/cam');
    await page.getByRole('button', { name: 'Save camera' }).click();
    await expect.poll(() => page.locator('#cam-url-error').textContent(), { timeout: 10_000 }).toMatch(/scheme|allowed|ftp/i);
    await screenshot(page, 'dashboard-3-camera-validation');

    const clip = existsSync(CLIP) ? CLIP : (await import('../support/clips.js')).makeClip(path.join(root, 'sky.mp4'), { moving: true, seconds: 6 });
    await page.getByLabel('Name').fill('Sky camera');
    await page.getByLabel(/Stream URL/).fill(clip);
    await page.getByRole('button', { name: 'Save camera' }).click();
    const card = page.locator('li.camera', { hasText: 'Sky camera' });
    await card.locator('.state-live').waitFor({ timeout: 30_000 });
    await expect.poll(() => card.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 15_000 }).toBeGreaterThan(0);
    await screenshot(page, 'dashboard-4-camera-live');

    await page.goto(`${url}#/alerts`);
    const alert = page.locator('li.alert[data-label="drone"]').first();
    await alert.waitFor({ timeout: 45_000 });
    await expect.poll(() => alert.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 15_000 }).toBeGreaterThan(0);
    await screenshot(page, 'dashboard-5-alert');

    await page.selectOption('#f-label', 'drone');
    await expect(page.locator('li.alert[data-label="drone"]').count()).resolves.toBeGreaterThan(0);
    await page.locator('#f-score').fill('1');
    // Filtered cards are hidden in place, not removed.
    await expect.poll(() => page.locator('li.alert:visible').count()).toBe(0);
    await screenshot(page, 'dashboard-6-filtered-away');
    await page.locator('#f-score').fill('0');
    await expect.poll(() => page.locator('li.alert:visible').count()).toBeGreaterThan(0);
  });

  it('shows models with metrics and a confusion matrix, promotes one and rolls back', async () => {
    await page.goto(`${url}#/models`);
    const v1 = page.locator('tr[data-version="v1"]');
    await v1.waitFor();
    await page.getByRole('button', { name: 'v1' }).click();
    await page.locator('#model-detail svg[aria-label^="Confusion"]').waitFor();
    await v1.getByRole('button', { name: 'Promote' }).click();
    await page.locator('#confirm-yes').click();
    // A promotion verifies the version first (checksum, ONNX Runtime load): give it time under load.
    await expect.poll(() => page.locator('section[aria-labelledby="models-title"] [role="status"]').textContent(), { timeout: 30_000 }).toMatch(/Promoted v1/);
    await expect.poll(() => page.locator('caption').textContent()).toMatch(/v1/);
    await screenshot(page, 'dashboard-7-models-promoted');
    await page.getByRole('button', { name: 'Roll back to previous' }).click();
    await page.locator('#confirm-yes').click();
    await expect.poll(() => page.locator('caption').textContent(), { timeout: 10_000 }).toMatch(/v2/);
  });

  it('draws the system charts from the metrics summary, and fits a phone screen', async () => {
    await page.goto(`${url}#/system`);
    await page.locator('figure.chart[data-metric="pipeline.framesInferred"]').waitFor({ timeout: 10_000 });
    await screenshot(page, 'dashboard-8-system');
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${url}#/alerts`);
    await page.locator('li.alert').first().waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot(page, 'dashboard-9-phone');
  });
});
