import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSkywatchError } from '../../core/errors.js';
import { ModelRegistry } from '../../core/model/registry.js';
import type { BlobStore } from '../../core/storage/blob-store.js';
import { openStore } from '../../core/storage/open-store.js';
import { syncFolderToStore } from '../../core/storage/sync.js';
import { startGcsServer, type GcsServer } from '../support/gcs-server.js';

let gcs: GcsServer;
beforeAll(async () => {
  gcs = await startGcsServer();
});
afterAll(async () => {
  await gcs?.stop();
});

let counter = 0;
const implementations: Array<[string, () => Promise<BlobStore>]> = [
  ['LocalStore', () => openStore(mkdtempSync(path.join(tmpdir(), 'sw-contract-')))],
  ['GcsStore', () => openStore(`gs://skywatch-test/run${counter++}/models`, { gcsApiEndpoint: gcs.url })],
];

describe.each(implementations)('%s (the BlobStore contract)', (_name, open) => {
  it('writes, reads, stats, lists with pagination and deletes', async () => {
    const store = await open();
    for (const k of ['a/1.json', 'a/2.json', 'a/3.json', 'a/4.json', 'b/1.json']) await store.write(k, `{"k":"${k}"}`);
    expect((await store.read('a/2.json')).toString()).toBe('{"k":"a/2.json"}');
    expect((await store.list('a/')).map((o) => o.key)).toEqual(['a/1.json', 'a/2.json', 'a/3.json', 'a/4.json']);
    expect((await store.list()).length).toBe(5);
    const info = await store.stat('b/1.json');
    expect(info).toMatchObject({ key: 'b/1.json', size: 16 });
    await store.delete('b/1.json');
    expect(await store.stat('b/1.json')).toBeNull();
    await store.delete('b/1.json');
    await expect(store.read('b/1.json')).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND' });
  });

  it('streams a few megabytes up and down intact', async () => {
    const store = await open();
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-big-'));
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 255;
    writeFileSync(path.join(dir, 'in.bin'), big);
    const up = await store.upload(path.join(dir, 'in.bin'), 'models/v1/model.onnx');
    expect(up.size).toBe(big.length);
    await store.download('models/v1/model.onnx', path.join(dir, 'out.bin'));
    expect(readFileSync(path.join(dir, 'out.bin')).equals(big)).toBe(true);
    await expect(store.download('missing', path.join(dir, 'x'))).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND' });
  });

  it('honours generation preconditions: exactly one of eight racers wins', async () => {
    const store = await open();
    const first = await store.write('latest.json', 'v0', { ifGenerationMatch: '0' });
    await expect(store.write('latest.json', 'again', { ifGenerationMatch: '0' })).rejects.toMatchObject({ code: 'STORAGE_PRECONDITION' });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.write('latest.json', `v${i + 1}`, { ifGenerationMatch: first.generation })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && isSkywatchError(r.reason, 'STORAGE_PRECONDITION'))).toHaveLength(7);
    const now = await store.stat('latest.json');
    expect(now?.generation).not.toBe(first.generation);
  });

  it('serves the model registry, with concurrent publishers never clobbering latest.json', async () => {
    const store = await open();
    const registry = new ModelRegistry(store);
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-pub-'));
    const { sha256 } = await import('../../core/hash.js');
    const publishes = Array.from({ length: 4 }, async (_, i) => {
      const bytes = Buffer.from(`model ${i}`);
      writeFileSync(path.join(dir, `${i}.onnx`), bytes);
      return registry.publish({
        version: `v${i}`,
        modelPath: path.join(dir, `${i}.onnx`),
        promote: 'force',
        manifest: { version: `v${i}`, created: new Date().toISOString(), labels: ['bird', 'drone'], kind: 'frame', input: { name: 'input', layout: 'NCHW', height: 8, width: 8, channelOrder: 'RGB', mean: [0, 0, 0], std: [1, 1, 1] }, output: { name: 'probabilities', kind: 'probabilities' }, sha256: sha256(bytes), parent: null },
      });
    });
    const decisions = await Promise.all(publishes);
    expect(decisions.every((d) => d.promoted)).toBe(true);
    const latest = await registry.latest();
    expect(new Set([latest!.version, ...latest!.previous]).size).toBe(4);
    const fetched = await registry.fetch('latest', path.join(dir, 'cache'));
    expect(readFileSync(fetched.modelPath).toString()).toBe(`model ${latest!.version.slice(1)}`);
  });

  it('mirrors a folder with rsync semantics', async () => {
    const store = await open();
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-sync-'));
    writeFileSync(path.join(dir, 'a.jpg'), 'a');
    writeFileSync(path.join(dir, 'b.jpg'), 'b');
    expect(await syncFolderToStore(dir, store)).toMatchObject({ uploaded: 2, unchanged: 0 });
    writeFileSync(path.join(dir, 'b.jpg'), 'bb');
    const { rmSync } = await import('node:fs');
    rmSync(path.join(dir, 'a.jpg'));
    expect(await syncFolderToStore(dir, store, { delete: true, dryRun: true })).toMatchObject({ uploaded: 1, deleted: 1, dryRun: true });
    expect(await syncFolderToStore(dir, store, { delete: true })).toMatchObject({ uploaded: 1, unchanged: 0, deleted: 1 });
    expect((await store.list()).map((o) => o.key).filter((k) => !k.startsWith('.'))).toEqual(['b.jpg']);
    expect(await syncFolderToStore(dir, store)).toMatchObject({ uploaded: 0, unchanged: 1 });
  });
});

describe('GcsStore against the server', () => {
  it('never asks Google for credentials and uses the JSON API paths', async () => {
    const store = await openStore('gs://skywatch-test/paths', { gcsApiEndpoint: gcs.url });
    await store.write('x.txt', 'x');
    expect(gcs.requests.some((r) => r.startsWith('POST /upload/storage/v1/b/skywatch-test/o?'))).toBe(true);
    expect(gcs.objects.has('skywatch-test/paths/x.txt')).toBe(true);
    await expect(openStore('gs://Bad_Bucket!/x')).rejects.toMatchObject({ code: 'STORAGE_URL_INVALID' });
  });
});

describe('a data set on gs://', () => {
  it('is synced up and materialised back into a local cache, downloading only what changed', async () => {
    const { materializeDataset } = await import('../../trainer/data/materialize.js');
    const { makeImageDataset } = await import('../support/image-dataset.js');
    const local = mkdtempSync(path.join(tmpdir(), 'sw-gsdata-'));
    await makeImageDataset(local, 3, 24);
    const url = 'gs://skywatch-data/structured';
    await syncFolderToStore(local, await openStore(url, { gcsApiEndpoint: gcs.url }));
    const cache = mkdtempSync(path.join(tmpdir(), 'sw-gscache-'));
    const dir = await materializeDataset(url, cache, { gcsApiEndpoint: gcs.url });
    expect(readFileSync(path.join(dir, 'drone', 'drone-1.jpg')).equals(readFileSync(path.join(local, 'drone', 'drone-1.jpg')))).toBe(true);
    const before = gcs.requests.filter((r) => r.includes('alt=media')).length;
    await materializeDataset(url, cache, { gcsApiEndpoint: gcs.url });
    expect(gcs.requests.filter((r) => r.includes('alt=media')).length - before).toBe(0); // nothing changed: nothing downloaded
  });
});
