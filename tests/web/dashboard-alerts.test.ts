import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, launchBrowser } from '../support/browser.js';
import { ADMIN, jpeg, pageWithToken, startDashboardServer, VIEWER, type DashboardServer, shot } from '../support/dashboard-server.js';

/**
 * The live alert page and the token handling in Debian's Chromium against a real API on real Redis.
 * Alerts are written into the Redis alert stream, the live feed the page reads, as the workers do.
 */
let server: DashboardServer;
let browser: Browser;

const card = (page: Page, alertId: string) => page.locator(`li.alert[data-alert-id="${alertId}"]`);
const naturalWidth = (page: Page, alertId: string) => card(page, alertId).locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth);

describe.skipIf(!existsSync(CHROMIUM))('dashboard: live alerts and tokens', () => {
  beforeAll(async () => {
    [server, browser] = await Promise.all([startDashboardServer('dash-alerts'), launchBrowser()]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('on load, the newest event of each alert wins and a closed alert keeps its snapshot (defects 1, 2)', async () => {
    const red = await jpeg(220, 30, 30);
    const open = await server.alert({ cameraId: 'cam-a', label: 'drone', score: 0.8 }, red);
    await server.alert({ cameraId: 'cam-a', alertId: open.alertId, status: 'update', score: 0.95 }, red);
    await server.alert({ cameraId: 'cam-a', alertId: open.alertId, status: 'closed', score: 0.95 }, null);
    const { context, page } = await pageWithToken(browser, ADMIN);
    await page.goto(server.url);
    const c = card(page, open.alertId);
    await c.waitFor({ timeout: 15_000 });
    expect(await c.getAttribute('data-status')).toBe('closed');
    expect(await c.locator('.status').textContent()).toMatch(/ended/);
    expect(await c.locator('.score').textContent()).toBe('95.0%');
    await expect.poll(() => naturalWidth(page, open.alertId), { timeout: 10_000 }).toBeGreaterThan(0);
    await shot(page, 'alerts-1-closed-keeps-snapshot');
    await context.close();
  });

  it('shows the whole history after a reload, not the last 50 events (defect 3)', async () => {
    // 60 alerts of 3 events each: 180 events, far more than 50.
    for (let i = 0; i < 60; i++) {
      const a = await server.alert({ cameraId: 'cam-h', label: i % 2 ? 'bird' : 'drone', score: 0.7 });
      await server.alert({ cameraId: 'cam-h', alertId: a.alertId, status: 'update', score: 0.75 });
      await server.alert({ cameraId: 'cam-h', alertId: a.alertId, status: 'closed', score: 0.75 });
    }
    const { context, page } = await pageWithToken(browser, ADMIN);
    await page.goto(server.url);
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator('li.alert').count(), { timeout: 10_000 }).toBe(61);
    await page.reload();
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('li.alert').count()).toBe(61);
    expect(await page.locator('li.alert[data-status="open"]').count()).toBe(0);
    await context.close();
  });

  it('updates a live alert in place, announces it once, never blanks its picture, and never drops its snapshot on close (defects 1, 5)', async () => {
    const { context, page } = await pageWithToken(browser, ADMIN);
    await page.goto(server.url);
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('ol.alerts').getAttribute('aria-live')).toBeNull();
    // Watch the list: every removed card, and every moment a shown picture is not a decoded image.
    await page.evaluate(() => {
      const w = window as unknown as { removed: number; blank: number; announcements: string[] };
      w.removed = 0;
      w.blank = 0;
      w.announcements = [];
      const list = document.querySelector('ol.alerts')!;
      new MutationObserver((records) => {
        for (const r of records) {
          w.removed += Array.from(r.removedNodes).filter((n) => n.nodeName === 'LI').length;
          if (r.type === 'attributes' && r.target instanceof HTMLImageElement && !r.target.hidden && !r.target.getAttribute('src')) w.blank++;
        }
      }).observe(list, { childList: true, subtree: true, attributes: true, attributeFilter: ['src', 'hidden'] });
      new MutationObserver(() => w.announcements.push(document.getElementById('alert-announcer')!.textContent ?? '')).observe(document.getElementById('alert-announcer')!, { childList: true, characterData: true, subtree: true });
    });
    const open = await server.alert({ cameraId: 'cam-live', label: 'drone', score: 0.81 }, await jpeg(30, 200, 30));
    const c = card(page, open.alertId);
    await c.waitFor({ timeout: 10_000 });
    await expect.poll(() => naturalWidth(page, open.alertId), { timeout: 10_000 }).toBeGreaterThan(0);
    await c.evaluate((el) => ((el as unknown as { marked: boolean }).marked = true));
    const img = await c.locator('img').elementHandle();
    for (let i = 1; i <= 5; i++) await server.alert({ cameraId: 'cam-live', alertId: open.alertId, status: 'update', score: 0.81 + i / 100 }, await jpeg(30, 200 - i * 20, 30));
    await expect.poll(() => c.locator('.score').textContent(), { timeout: 10_000 }).toBe('86.0%');
    await server.alert({ cameraId: 'cam-live', alertId: open.alertId, status: 'closed', score: 0.86 }, null);
    await expect.poll(() => c.getAttribute('data-status'), { timeout: 10_000 }).toBe('closed');
    expect(await c.evaluate((el) => (el as unknown as { marked?: boolean }).marked)).toBe(true);
    expect(await img!.evaluate((el, li) => li.contains(el), await c.elementHandle())).toBe(true);
    expect(await naturalWidth(page, open.alertId)).toBeGreaterThan(0);
    const seen = await page.evaluate(() => {
      const w = window as unknown as { removed: number; blank: number; announcements: string[] };
      return { removed: w.removed, blank: w.blank, announcements: w.announcements };
    });
    expect(seen.removed).toBe(0);
    expect(seen.blank).toBe(0);
    expect(seen.announcements.filter((t) => t.startsWith('New drone alert'))).toHaveLength(1);
    await shot(page, 'alerts-2-live-updated');
    await page.setViewportSize({ width: 375, height: 812 });
    await shot(page, 'alerts-3-phone');
    await context.close();
  });

  it('notifies only alerts that match the filters, with one audio context (defect 7)', async () => {
    const { context, page } = await pageWithToken(browser, ADMIN);
    // Headless Chromium shows no notifications and plays no sound: record what the page asks for.
    await context.addInitScript(() => {
      const w = window as unknown as { notes: string[]; contexts: number };
      w.notes = [];
      w.contexts = 0;
      class RecordedNotification {
        static permission = 'granted';
        static requestPermission = async () => 'granted';
        constructor(title: string) { w.notes.push(title); }
      }
      Object.defineProperty(window, 'Notification', { value: RecordedNotification });
      const Real = window.AudioContext;
      Object.defineProperty(window, 'AudioContext', { value: class extends Real { constructor() { super(); w.contexts++; } } });
    });
    await page.goto(server.url);
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 15_000 });
    await page.selectOption('#f-label', 'drone');
    await page.locator('#f-notify').check();
    const before = await page.locator('li.alert').count();
    await server.alert({ cameraId: 'cam-n', label: 'bird', score: 0.9 });
    await server.alert({ cameraId: 'cam-n', label: 'drone', score: 0.9 });
    await server.alert({ cameraId: 'cam-n', label: 'drone', score: 0.92 });
    await expect.poll(() => page.evaluate(() => document.querySelectorAll('li.alert').length), { timeout: 10_000 }).toBe(before + 3);
    const got = await page.evaluate(() => {
      const w = window as unknown as { notes: string[]; contexts: number };
      return { notes: w.notes, contexts: w.contexts };
    });
    expect(got.notes).toEqual(['drone alert', 'drone alert']);
    expect(got.contexts).toBe(1);
    await context.close();
  });

  it('downloads no snapshot while the tab is hidden, and shows them when it is visible again (defect 13)', async () => {
    const { context, page } = await pageWithToken(browser, ADMIN);
    await page.goto(server.url);
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 15_000 });
    const snapshots: string[] = [];
    page.on('request', (r) => { if (r.url().includes('/snapshot.jpg')) snapshots.push(r.url()); });
    const setVisibility = (state: 'hidden' | 'visible') => page.evaluate((s) => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => s === 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    }, state);
    await setVisibility('hidden');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await server.alert({ cameraId: 'cam-hidden', score: 0.9 }, await jpeg(10, 10, 200 + i * 10))).alertId);
    for (const id of ids) await card(page, id).waitFor({ state: 'attached', timeout: 10_000 });
    expect(snapshots).toEqual([]);
    await setVisibility('visible');
    for (const id of ids) await expect.poll(() => naturalWidth(page, id), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(snapshots.length).toBe(3);
    await context.close();
  });

  it('Escape on the token prompt leaves a working page and Token button; a wrong token is named, not retried (defect 4)', async () => {
    const { context, page } = await pageWithToken(browser, null);
    let whoamis = 0;
    page.on('request', (r) => { if (r.url().includes('/v1/whoami')) whoamis++; });
    await page.goto(server.url);
    const dialog = page.locator('#token-dialog');
    await dialog.waitFor({ state: 'visible', timeout: 10_000 });
    await page.keyboard.press('Escape');
    await page.locator('#auth-banner').waitFor({ timeout: 5_000 });
    expect(await page.locator('#auth-banner').textContent()).toMatch(/needs a token/);
    await shot(page, 'token-1-escaped');
    await page.locator('#token-button').click();
    await dialog.waitFor({ state: 'visible', timeout: 5_000 });
    await page.locator('#token-input').fill('not-a-valid-token');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/./);
    await dialog.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.locator('#token-reason').textContent()).toMatch(/refused/);
    await shot(page, 'token-2-refused');
    await page.keyboard.press('Escape');
    await page.locator('#auth-banner').filter({ hasText: /refused/ }).waitFor({ timeout: 5_000 });
    const settled = whoamis;
    expect(settled).toBeLessThanOrEqual(3);
    await page.locator('#auth-banner button').click();
    await page.locator('#token-input').fill(ADMIN);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#role').filter({ hasText: 'admin' }).waitFor({ timeout: 10_000 });
    await page.locator('#conn[data-state="live"]').waitFor({ timeout: 15_000 });
    await context.close();
  });

  it('a viewer sees no admin controls, and a refused action says why (defect 4, roles)', async () => {
    const viewer = await pageWithToken(browser, VIEWER);
    await viewer.page.goto(`${server.url}#/models`);
    await viewer.page.locator('#role').filter({ hasText: 'viewer' }).waitFor({ timeout: 10_000 });
    await viewer.page.locator('tr[data-version="v1"]').waitFor({ timeout: 10_000 });
    expect(await viewer.page.getByRole('button', { name: 'Promote' }).count()).toBe(0);
    expect(await viewer.page.locator('#rollback').isVisible()).toBe(false);
    await viewer.page.goto(`${server.url}#/cameras`);
    expect(await viewer.page.locator('form.camera-form').isVisible()).toBe(false);
    await shot(viewer.page, 'roles-1-viewer-cameras');
    await viewer.context.close();

    // The page was opened as admin; the token is then swapped for a viewer's (another tab did it).
    const { context, page } = await pageWithToken(browser, ADMIN);
    await page.goto(`${server.url}#/models`);
    await page.locator('tr[data-version="v1"]').waitFor({ timeout: 10_000 });
    await page.evaluate((t) => localStorage.setItem('skywatch.token', t), VIEWER);
    await page.locator('tr[data-version="v1"]').getByRole('button', { name: 'Promote' }).click();
    await page.locator('#confirm-yes').click();
    const refused = page.locator('.notice.error');
    await refused.waitFor({ timeout: 10_000 });
    expect(await refused.textContent()).toMatch(/admin token/);
    await shot(page, 'roles-2-refused-action');
    await context.close();
  });

  it('reviews the alert history: filters, pages, detail with snapshot, path and clip, admin verdicts that survive a reload', async () => {
    const pic = await jpeg(90, 140, 220, 320, 240);
    const path = [{ x: 40, y: 200, at: 1 }, { x: 120, y: 150, at: 2 }, { x: 200, y: 90, at: 3 }, { x: 280, y: 40, at: 4 }];
    for (let i = 0; i < 28; i++) {
      const label = i % 4 === 0 ? 'bird' : 'drone';
      const a = await server.alert({ cameraId: 'cam-r', label, score: 0.7 + (i % 10) / 40, path, box: { x: 260, y: 20, width: 40, height: 40, area: 1600 }, clipUrl: i === 27 ? 'v1/review/none/clip.mp4' : null }, pic);
      await server.alert({ cameraId: 'cam-r', alertId: a.alertId, label, status: 'closed', score: 0.8, path }, null);
    }
    const total = async () => ((await (await fetch(`${server.url}v1/review?camera=cam-r&limit=1`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { total: number }).total;
    await expect.poll(total, { timeout: 20_000 }).toBe(28);

    const { context, page } = await pageWithToken(browser, ADMIN);
    await page.goto(`${server.url}#/review?camera=cam-r`);
    const summary = page.locator('#review-summary');
    await expect.poll(() => summary.textContent(), { timeout: 15_000 }).toBe('Alerts 1–25 of 28, newest first');
    expect(await page.locator('table.review tbody tr').count()).toBe(25);
    await page.locator('#review-next').click();
    await expect.poll(() => summary.textContent()).toBe('Alerts 26–28 of 28, newest first');
    await page.locator('#review-prev').click();
    await expect.poll(() => summary.textContent()).toBe('Alerts 1–25 of 28, newest first');
    await page.selectOption('#r-label', 'bird');
    await expect.poll(() => summary.textContent()).toBe('Alerts 1–7 of 7, newest first');
    await page.selectOption('#r-label', '');
    await expect.poll(() => summary.textContent()).toBe('Alerts 1–25 of 28, newest first');

    const first = page.locator('table.review tbody tr').first();
    const alertId = (await first.getAttribute('data-alert-id'))!;
    await first.getByRole('button').click();
    const detail = page.locator('#review-detail');
    await expect.poll(() => detail.locator('img.snapshot').evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: 10_000 }).toBe(320);
    await detail.locator('svg.path-overlay polyline.track').waitFor({ timeout: 5_000 });
    expect(await detail.locator('svg.path-overlay polyline.track').getAttribute('points')).toBe('40,200 120,150 200,90 280,40');
    expect(await detail.locator('video.clip').getAttribute('src')).toMatch(/^v1\/review\/none\/clip\.mp4\?token=/);
    await shot(page, 'review-1-detail');

    await detail.locator('#review-false').click();
    await expect.poll(() => detail.locator('#review-state').textContent(), { timeout: 10_000 }).toMatch(/^False alarm \(admin:/);
    await page.selectOption('#relabel-label', 'bird');
    await detail.locator('#relabel').click();
    await expect.poll(() => detail.locator('#review-state').textContent(), { timeout: 10_000 }).toMatch(/^It was a bird/);
    await page.reload();
    await expect.poll(() => page.locator(`tr[data-alert-id="${alertId}"] .review-state`).textContent(), { timeout: 15_000 }).toMatch(/^It was a bird/);
    await page.selectOption('#r-reviewed', 'false');
    await expect.poll(() => summary.textContent()).toBe('Alerts 1–25 of 27, newest first');
    await page.setViewportSize({ width: 375, height: 812 });
    await page.locator(`tr`).nth(1).getByRole('button').click();
    await detail.locator('img.snapshot').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await shot(page, 'review-2-phone');
    await context.close();

    const viewer = await pageWithToken(browser, VIEWER);
    await viewer.page.goto(`${server.url}#/review?camera=cam-r`);
    await viewer.page.locator('table.review tbody tr').first().getByRole('button').click();
    await viewer.page.locator('#review-detail h3').waitFor({ timeout: 10_000 });
    expect(await viewer.page.locator('#review-false').count()).toBe(0);
    expect(await viewer.page.locator('#review-detail').textContent()).toMatch(/needs an admin token/);
    await viewer.context.close();
  });
});
