/**
 * The dashboard in Debian's Chromium (npm run bench:dashboard; BENCH_MINUTES, default 5, 30 for the
 * long soak): a real API on real Redis with BENCH_HISTORY alerts (default 200, three events each)
 * already in the stream.
 * - page weight: bytes transferred (compressed) and decoded for a cold load;
 * - time to first alert shown: navigation start to the first alert card in the page (cold load);
 * - live latency: an alert written to the stream until its card is in the page;
 * - a soak: the page left open while alerts arrive (BENCH_RATE events a second, default 2: new alerts,
 *   updates with new snapshots, closes), sampling the page's JS heap, DOM nodes and listeners every
 *   30 s through the Chrome DevTools protocol.
 * Prints one JSON line per sample and a summary.
 */
import os from 'node:os';
import { launchBrowser } from '../tests/support/browser.js';
import { ADMIN, jpeg, pageWithToken, startDashboardServer } from '../tests/support/dashboard-server.js';

const MINUTES = Number(process.env.BENCH_MINUTES ?? 5);
const HISTORY = Number(process.env.BENCH_HISTORY ?? 200);
const RATE = Number(process.env.BENCH_RATE ?? 2);
const SAMPLE_MS = Number(process.env.BENCH_SAMPLE_MS ?? 30_000);

const server = await startDashboardServer('bench-dash');
const browser = await launchBrowser();
const snapshots = await Promise.all([0, 1, 2, 3].map((i) => jpeg(40 + i * 40, 120, 200 - i * 30, 640, 360)));
for (let i = 0; i < HISTORY; i++) {
  const a = await server.alert({ cameraId: `cam-${i % 4}`, label: i % 3 ? 'drone' : 'bird', score: 0.7 }, snapshots[i % 4]);
  await server.alert({ cameraId: a.cameraId, alertId: a.alertId, status: 'update', score: 0.8 }, snapshots[(i + 1) % 4]);
  await server.alert({ cameraId: a.cameraId, alertId: a.alertId, status: 'closed', score: 0.8 }, null);
}

// Cold load: weight and time to the first alert card.
const { context, page } = await pageWithToken(browser, ADMIN, { width: 1440, height: 900 });
await context.addInitScript(() => {
  new MutationObserver((_r, obs) => {
    if (document.querySelector('li.alert')) {
      (window as unknown as { firstAlertMs: number }).firstAlertMs = performance.now();
      obs.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
});
await page.goto(server.url);
await page.waitForFunction(() => (window as unknown as { firstAlertMs?: number }).firstAlertMs !== undefined, null, { timeout: 60_000 });
await page.locator('#conn[data-state="live"]').waitFor({ timeout: 60_000 });
await page.waitForLoadState('networkidle');
const load = await page.evaluate(() => {
  const entries = [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')] as PerformanceResourceTiming[];
  const code = entries.filter((e) => !e.name.includes('/v1/'));
  return {
    firstAlertMs: Math.round((window as unknown as { firstAlertMs: number }).firstAlertMs),
    codeTransferredKb: Math.round(code.reduce((s, e) => s + e.transferSize, 0) / 102.4) / 10,
    codeDecodedKb: Math.round(code.reduce((s, e) => s + e.decodedBodySize, 0) / 102.4) / 10,
    allTransferredKb: Math.round(entries.reduce((s, e) => s + e.transferSize, 0) / 102.4) / 10,
    requests: entries.length,
    cards: document.querySelectorAll('li.alert').length,
  };
});
console.log(JSON.stringify({ load }));

// Live latency: write, then wait for the card.
const latencies: number[] = [];
for (let i = 0; i < 10; i++) {
  const t0 = Date.now();
  const a = await server.alert({ cameraId: 'cam-latency', score: 0.9 }, snapshots[0]);
  await page.locator(`li.alert[data-alert-id="${a.alertId}"]`).waitFor({ state: 'attached', timeout: 30_000 });
  latencies.push(Date.now() - t0);
}
latencies.sort((a, b) => a - b);
console.log(JSON.stringify({ liveLatencyMs: { median: latencies[5], max: latencies[9] } }));

// Soak: alerts keep arriving; sample the page's memory.
const cdp = await context.newCDPSession(page);
await cdp.send('Performance.enable');
const metrics = async () => {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics: m } = await cdp.send('Performance.getMetrics');
  const get = (n: string) => m.find((x) => x.name === n)?.value ?? 0;
  return { heapMb: Math.round(get('JSHeapUsedSize') / 104857.6) / 10, nodes: get('Nodes'), listeners: get('JSEventListeners'), cards: await page.locator('li.alert').count() };
};
const samples: Array<{ t: number; heapMb: number; nodes: number; listeners: number; cards: number }> = [];
const start = Date.now();
const end = start + MINUTES * 60_000;
let open: Array<{ alertId: string; cameraId: string; n: number }> = [];
let sent = 0;
let nextSample = start;
while (Date.now() < end) {
  if (Date.now() >= nextSample) {
    const s = { t: Math.round((Date.now() - start) / 1000), ...(await metrics()) };
    samples.push(s);
    console.log(JSON.stringify(s));
    nextSample += SAMPLE_MS;
  }
  // A new alert, an update (new snapshot) or a close, in turn.
  const pick = sent % 3;
  if (pick === 0 || open.length === 0) {
    const a = await server.alert({ cameraId: `cam-${sent % 4}`, score: 0.75 }, snapshots[sent % 4]);
    open.push({ alertId: a.alertId, cameraId: a.cameraId, n: 0 });
  } else if (pick === 1) {
    const a = open[sent % open.length];
    a.n++;
    await server.alert({ cameraId: a.cameraId, alertId: a.alertId, status: 'update', score: 0.75 + (a.n % 20) / 100 }, snapshots[(sent + a.n) % 4]);
  } else {
    const a = open.shift()!;
    await server.alert({ cameraId: a.cameraId, alertId: a.alertId, status: 'closed', score: 0.8 }, null);
  }
  open = open.slice(-20);
  sent++;
  await new Promise((r) => setTimeout(r, 1000 / RATE));
}
samples.push({ t: Math.round((Date.now() - start) / 1000), ...(await metrics()) });
console.log(JSON.stringify(samples[samples.length - 1]));

const third = Math.max(1, Math.floor(samples.length / 3));
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const early = samples.slice(0, third);
const late = samples.slice(-third);
console.log(JSON.stringify({
  summary: {
    minutes: MINUTES, eventsSent: sent, ratePerS: RATE, history: HISTORY,
    load, liveLatencyMs: { median: latencies[5], max: latencies[9] },
    heapMb: { first: samples[0].heapMb, last: samples[samples.length - 1].heapMb, max: Math.max(...samples.map((s) => s.heapMb)), growthLateVsEarly: Math.round((avg(late.map((s) => s.heapMb)) - avg(early.map((s) => s.heapMb))) * 10) / 10 },
    nodes: { first: samples[0].nodes, last: samples[samples.length - 1].nodes },
    listeners: { first: samples[0].listeners, last: samples[samples.length - 1].listeners },
    cards: samples[samples.length - 1].cards,
    machine: `${os.cpus().length} cpu ${os.cpus()[0]?.model ?? ''}`.trim(), loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  },
}));
await context.close();
await browser.close();
await server.stop();
