import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import type { ReloadOutcome } from '../../inference/model-holder.js';
import { buildServer, type SkywatchServer } from '../../web/server.js';
import { publishTiny } from '../support/tiny-model.js';

let server: SkywatchServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

interface Answer {
  startedAt: number;
  status: number;
  version?: string;
  label?: string;
}

describe('hot reload under load', () => {
  it('switches to a newly published model on the first poll after it, without failing a request', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-reload-'));
    const config = loadConfig({ env: { SKYWATCH_STATE_DIR: path.join(dir, 'state'), SKYWATCH_POLL_INTERVAL_MS: '250', SKYWATCH_MAX_BATCH: '8', SKYWATCH_MAX_WAIT_MS: '2' } });
    const registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    server = await buildServer({ config, logger: silentLogger, registry });
    const url = await server.listen(0);
    await server.holder.reload();
    const holder = server.holder;

    // Every check of latest.json, with the time it started, and the moment of the swap.
    const checks: Array<{ startedAt: number; outcome: ReloadOutcome }> = [];
    holder.on('reload', (outcome: ReloadOutcome) => checks.push({ startedAt: holder.lastCheck!.getTime(), outcome }));
    let swappedAt = 0;
    holder.on('swap', () => (swappedAt = Date.now()));

    const body = new Uint8Array(await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 230, g: 20, b: 20 } } }).jpeg().toBuffer());
    const answers: Answer[] = [];
    let publishedAt = 0;
    let stopAt = Number.POSITIVE_INFINITY;
    const client = async () => {
      while (answers.length < stopAt) {
        const startedAt = Date.now();
        const res = await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body });
        const json = (await res.json()) as { modelVersion?: string; label?: string };
        answers.push({ startedAt, status: res.status, version: json.modelVersion, label: json.label });
        if (answers.length === 40) {
          await publishTiny(registry, path.join(dir, 'm'), 'v2', true);
          publishedAt = Date.now();
        }
        // Keep the load on for a while after the swap so requests cross it.
        if (swappedAt && stopAt === Number.POSITIVE_INFINITY) stopAt = answers.length + 60;
        // A safety net so a broken reload fails the test instead of hanging it.
        if (answers.length > 5000) break;
      }
    };
    await Promise.all(Array.from({ length: 8 }, client));

    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(swappedAt).toBeGreaterThan(0);
    // Within one poll interval: the check that loaded v2 is at the latest the first one that started
    // after the publication (checks never overlap; one may have started while publishing).
    const loadedIdx = checks.findIndex((c) => c.outcome === 'loaded');
    const firstAfter = checks.findIndex((c) => c.startedAt >= publishedAt);
    expect(loadedIdx).toBeGreaterThanOrEqual(0);
    expect(firstAfter === -1 || loadedIdx <= firstAfter).toBe(true);
    expect(checks.filter((c) => c.outcome === 'failed')).toEqual([]);
    expect(holder.current?.version).toBe('v2');
    // Each answer is consistent with the model that gave it (v2 answers the other way round)...
    for (const a of answers) expect(a.label).toBe(a.version === 'v1' ? 'bird' : 'drone');
    // ...and every request sent after the swap was answered by the new model.
    expect(answers.filter((a) => a.startedAt > swappedAt).every((a) => a.version === 'v2')).toBe(true);
    expect(answers.filter((a) => a.version === 'v1').length).toBeGreaterThanOrEqual(40);
    expect(answers.filter((a) => a.version === 'v2').length).toBeGreaterThanOrEqual(50);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/skywatch_model_reloads_total\{outcome="loaded"\} [1-9]/);
    expect(metrics).toMatch(/skywatch_model_loaded\{version="v2"\} 1/);
    expect(metrics).not.toMatch(/skywatch_model_loaded\{version="v1"\}/);
  });
});
