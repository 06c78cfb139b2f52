import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { ModelHolder, type ReloadOutcome } from '../../inference/model-holder.js';
import { publishTiny } from '../support/tiny-model.js';

const holders: ModelHolder[] = [];
afterEach(async () => {
  while (holders.length) await holders.pop()!.stop();
});

function setup(pollIntervalMs = 60_000): { holder: ModelHolder; registry: ModelRegistry; dir: string; outcomes: ReloadOutcome[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'sw-holder-'));
  const registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
  const holder = new ModelHolder({ registry, cacheDir: path.join(dir, 'cache'), threads: { intraOpThreads: 1 }, pollIntervalMs, logger: silentLogger });
  const outcomes: ReloadOutcome[] = [];
  holder.on('reload', (o: ReloadOutcome) => outcomes.push(o));
  holders.push(holder);
  return { holder, registry, dir, outcomes };
}

const red = () => {
  const t = new Float32Array(3 * 16 * 16);
  t.fill(0.9, 0, 256);
  return t;
};

describe('ModelHolder', () => {
  it('starts without a model, then loads, keeps and swaps the latest version', async () => {
    const { holder, registry, dir, outcomes } = setup();
    expect(await holder.reload()).toBe('none');
    expect(() => holder.acquire()).toThrow(expect.objectContaining({ code: 'NO_MODEL' }));
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    expect(await holder.reload()).toBe('loaded');
    expect(holder.current?.version).toBe('v1');
    expect(await holder.reload()).toBe('unchanged');
    await publishTiny(registry, path.join(dir, 'm'), 'v2', true);
    const swaps: string[] = [];
    holder.on('swap', (m: { version: string }) => swaps.push(m.version));
    expect(await holder.reload()).toBe('loaded');
    expect(swaps).toEqual(['v2']);
    expect(outcomes).toEqual(['none', 'loaded', 'unchanged', 'loaded']);
  });

  it('lets requests in flight finish on the old session and releases it once they are done', async () => {
    const { holder, registry, dir } = setup();
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    await holder.reload();
    const lease = holder.acquire();
    await publishTiny(registry, path.join(dir, 'm'), 'v2', true);
    await holder.reload();
    expect(holder.current?.version).toBe('v2');
    // The old session still answers for the request that holds it.
    const probs = await lease.model.run(red(), 1);
    expect(probs[0]).toBeGreaterThan(0.9);
    expect(lease.model.loaded).toBe(true);
    lease.release();
    expect(lease.model.loaded).toBe(false);
    expect(holder.current?.model.loaded).toBe(true);
  });

  it('refuses a model whose bytes do not match, or whose outputs do not match its labels, and keeps serving', async () => {
    const { holder, registry, dir } = setup();
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    await holder.reload();
    const refused: string[] = [];
    holder.on('refused', (_v: string, message: string) => refused.push(message));

    await publishTiny(registry, path.join(dir, 'm'), 'v2', true);
    await registry.store.write('models/v2/model.onnx', 'not the published bytes');
    expect(await holder.reload()).toBe('failed');
    expect(holder.current?.version).toBe('v1');
    expect(holder.lastError).toMatch(/^MODEL_CHECKSUM/);
    // A refused version is not downloaded again on every poll, only when a reload is forced.
    expect(await holder.reload()).toBe('unchanged');
    expect(await holder.reload(true)).toBe('failed');

    await publishTiny(registry, path.join(dir, 'm'), 'v3', false, { labels: ['bird', 'drone', 'plane'] });
    expect(await holder.reload()).toBe('failed');
    expect(holder.lastError).toMatch(/^MODEL_OUTPUT_MISMATCH/);

    await publishTiny(registry, path.join(dir, 'm'), 'v4', false, { labels: ['bird', 'bird'] });
    expect(await holder.reload()).toBe('failed');
    expect(holder.lastError).toMatch(/labels repeat/);

    expect(refused).toHaveLength(4);
    const lease = holder.acquire();
    expect(lease.version).toBe('v1');
    expect((await lease.model.run(red(), 1))[0]).toBeGreaterThan(0.9);
    lease.release();

    // A good version after the bad ones is taken, and clears the error.
    await publishTiny(registry, path.join(dir, 'm'), 'v5', true);
    expect(await holder.reload()).toBe('loaded');
    expect(holder.lastError).toBeNull();
  });

  it('polls the registry and picks up a published model without being asked', async () => {
    const { holder, registry, dir } = setup(100);
    holder.start();
    const swapped = new Promise<string>((resolve) => holder.once('swap', (m: { version: string }) => resolve(m.version)));
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    expect(await swapped).toBe('v1');
    const lease = holder.acquire();
    expect(lease.version).toBe('v1');
    lease.release();
  });
});
