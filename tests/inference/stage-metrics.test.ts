import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { profileFromServer, profileServing } from '../../inference/serving-profile.js';
import { buildServer } from '../../web/server.js';
import { publishTiny } from '../support/tiny-model.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sw-stages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('serving stage timing', () => {
  it('/metrics has a histogram per stage fed by real predictions, and doctor --profile reads it back', async () => {
    const registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
    await publishTiny(registry, path.join(dir, 'models'), 'v1');
    const config = loadConfig({ env: { SKYWATCH_STATE_DIR: path.join(dir, 'state') } });
    const server = await buildServer({ config, logger: silentLogger, registry });
    try {
      const url = await server.listen(0);
      await server.holder.reload(true);
      const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 20, g: 60, b: 200 } } }).jpeg().toBuffer();
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/v1/predict`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(jpeg) });
        expect(res.status).toBe(200);
      }
      const text = await (await fetch(`${url}/metrics`)).text();
      for (const stage of ['decode', 'preprocess', 'queue_wait', 'inference']) {
        const count = Number(new RegExp(`^skywatch_stage_seconds_count\\{stage="${stage}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
        expect(count, stage).toBeGreaterThanOrEqual(3);
      }
      const remote = await profileFromServer(url);
      expect(remote.model).toBe('v1');
      expect(remote.stages.decode?.count).toBeGreaterThanOrEqual(3);
      expect(remote.stages.decode?.meanMs).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('the local profile drives every stage of the serving code with the latest model', async () => {
    const registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
    const profile = await profileServing({ registry, cacheDir: path.join(dir, 'cache'), threads: { intraOpThreads: 1, interOpThreads: 1 }, logger: silentLogger, requests: 16 });
    expect(profile.model).toBe('v1');
    for (const stage of ['decode', 'preprocess', 'queue_wait', 'inference', 'alert_rules', 'snapshot'] as const) {
      expect(profile.stages[stage]?.count, stage).toBeGreaterThan(0);
      expect(profile.stages[stage]!.p95Ms).toBeGreaterThanOrEqual(profile.stages[stage]!.p50Ms);
    }
    expect(profile.stages.decode?.count).toBe(8);
    expect(profile.stages.preprocess?.count).toBe(16);
  }, 60_000);
});
