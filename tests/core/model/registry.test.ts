import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../../core/hash.js';
import { PHOTO_GATE_COLUMN, photoManifest, type ModelManifest } from '../../../core/model/manifest.js';
import { ModelRegistry } from '../../../core/model/registry.js';
import { LocalStore } from '../../../core/storage/local-store.js';

const work = () => mkdtempSync(path.join(tmpdir(), 'sw-reg-'));

function fakeModel(dir: string, version: string, accuracy: number, split = 'split-a'): { modelPath: string; manifest: ModelManifest } {
  const bytes = Buffer.from(`onnx bytes of ${version}`);
  const modelPath = path.join(dir, `${version}.onnx`);
  writeFileSync(modelPath, bytes);
  const manifest: ModelManifest = {
    version,
    created: new Date().toISOString(),
    labels: ['bird', 'drone'],
    kind: 'frame',
    input: { name: 'input', layout: 'NCHW', height: 16, width: 16, channelOrder: 'RGB', mean: [0, 0, 0], std: [255, 255, 255] },
    output: { name: 'probabilities', kind: 'probabilities' },
    sha256: sha256(bytes),
    metrics: { accuracy, perLabel: {}, macroF1: accuracy, confusion: [[1, 0], [0, 1]], rocAuc: {}, count: 2, splitFingerprint: split },
    parent: null,
  };
  return { modelPath, manifest };
}

describe('ModelRegistry', () => {
  it('promotes a first model, keeps a worse one as candidate, promotes a better one, rolls back', async () => {
    const dir = work();
    const reg = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
    expect(await reg.latest()).toBeNull();
    const a = fakeModel(dir, 'v1', 0.9);
    const d1 = await reg.publish({ version: 'v1', ...a, reportHtml: '<html>v1</html>', promote: 'auto' });
    expect(d1).toMatchObject({ promoted: true, previous: null });
    const worse = fakeModel(dir, 'v2', 0.8);
    const d2 = await reg.publish({ version: 'v2', ...worse, promote: 'auto' });
    expect(d2.promoted).toBe(false);
    expect(d2.reason).toMatch(/candidate/);
    expect((await reg.latest())?.version).toBe('v1');
    const close = fakeModel(dir, 'v3', 0.895);
    expect((await reg.publish({ version: 'v3', ...close, promote: 'auto' })).promoted).toBe(true);
    const list = await reg.list();
    expect(list.find((m) => m.version === 'v2')?.status).toBe('candidate');
    expect(list.find((m) => m.version === 'v1')?.status).toBe('previous');
    expect(list.find((m) => m.version === 'v3')?.isLatest).toBe(true);
    expect(await reg.readReport('v1')).toBe('<html>v1</html>');
    const back = await reg.rollback();
    expect(back.version).toBe('v1');
    expect((await reg.latest())?.version).toBe('v1');
    await expect(reg.rollback()).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect((await reg.promote('v2')).promoted).toBe(true);
    expect((await reg.latest())?.previous).toEqual(['v1']);
  });

  it('refuses to compare accuracies on different test splits unless forced, and never overwrites a version', async () => {
    const dir = work();
    const reg = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
    await reg.publish({ version: 'v1', ...fakeModel(dir, 'v1', 0.5), promote: 'auto' });
    const other = fakeModel(dir, 'v2', 0.99, 'split-b');
    const d = await reg.publish({ version: 'v2', ...other, promote: 'auto' });
    expect(d.promoted).toBe(false);
    expect(d.reason).toMatch(/splits differ/);
    expect((await reg.publish({ version: 'v3', ...fakeModel(dir, 'v3', 0.1, 'split-b'), promote: 'force' })).promoted).toBe(true);
    await expect(reg.publish({ version: 'v1', ...fakeModel(dir, 'v1', 0.9), promote: 'auto' })).rejects.toMatchObject({ code: 'REGISTRY_CONFLICT' });
  });

  it('lets concurrent publishers all add versions while latest.json moves consistently', async () => {
    const dir = work();
    const reg = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
    const models = Array.from({ length: 6 }, (_, i) => fakeModel(dir, `c${i}`, 0.9));
    const decisions = await Promise.all(models.map((m) => reg.publish({ version: m.manifest.version, ...m, promote: 'force' })));
    expect(decisions.every((d) => d.promoted)).toBe(true);
    const latest = await reg.latest();
    // Every swap saw the pointer it replaced: the chain of previous versions has no gaps or repeats.
    expect(new Set([latest!.version, ...latest!.previous]).size).toBe(6);
    expect((await reg.list()).length).toBe(6);
  });

  it('verifies checksums when fetching and refuses corrupt manifests', async () => {
    const dir = work();
    const store = new LocalStore(path.join(dir, 'registry'));
    const reg = new ModelRegistry(store);
    const m = fakeModel(dir, 'v1', 0.9);
    await reg.publish({ version: 'v1', ...m, promote: 'auto' });
    const cache = path.join(dir, 'cache');
    const fetched = await reg.fetch('latest', cache);
    expect(fetched.manifest.version).toBe('v1');
    await store.write('models/v1/model.onnx', 'tampered');
    await expect(reg.fetch('v1', path.join(dir, 'cache2'))).rejects.toMatchObject({ code: 'MODEL_CHECKSUM' });
    await store.write('models/v1/manifest.json', '{"version": "v1"}');
    await expect(reg.resolve('v1')).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    await expect(reg.resolve('nope')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });

  it('refuses a served model whose output claims a gate, and derives a gated photo model\'s manifest with the gate as its last column', async () => {
    const dir = work();
    const reg = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
    const m = fakeModel(dir, 'v1', 0.9);
    const gatedMain = { ...m.manifest, output: { name: 'probabilities', kind: 'probabilities-and-gate' as const } };
    await expect(reg.publish({ version: 'v1', modelPath: m.modelPath, manifest: gatedMain, promote: 'auto' })).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    const photo = { file: 'photo.onnx' as const, sha256: 'a'.repeat(64), input: m.manifest.input, outputName: 'probabilities', labels: ['bird', 'drone'], heads: 5 };
    expect(photoManifest({ ...m.manifest, photo: { ...photo, gate: { column: PHOTO_GATE_COLUMN, keepCropAbove: 0.9 } } })).toMatchObject({ labels: ['bird', 'drone', 'photograph'], output: { kind: 'probabilities-and-gate' } });
    expect(photoManifest({ ...m.manifest, photo })).toMatchObject({ labels: ['bird', 'drone'], output: { kind: 'probabilities' } });
  });
});
