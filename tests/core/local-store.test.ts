import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSkywatchError } from '../../core/errors.js';
import { openStore } from '../../core/storage/open-store.js';

describe('LocalStore', () => {
  it('writes, reads, lists, downloads and deletes', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'sw-store-'));
    const store = await openStore(root);
    await store.write('models/v1/manifest.json', '{"a":1}');
    await store.write('models/v2/manifest.json', '{"a":2}');
    await store.write('latest.json', '{}');
    expect((await store.read('models/v1/manifest.json')).toString()).toBe('{"a":1}');
    expect((await store.list('models/')).map((o) => o.key)).toEqual(['models/v1/manifest.json', 'models/v2/manifest.json']);
    const src = path.join(root, 'src.bin');
    writeFileSync(src, Buffer.alloc(1000, 7));
    await store.upload(src, 'blobs/a.bin');
    const dst = path.join(mkdtempSync(path.join(tmpdir(), 'sw-dl-')), 'a.bin');
    await store.download('blobs/a.bin', dst);
    expect(readFileSync(dst).equals(Buffer.alloc(1000, 7))).toBe(true);
    await store.delete('latest.json');
    expect(await store.stat('latest.json')).toBeNull();
    await expect(store.read('latest.json')).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND' });
  });

  it('refuses a conditional write whose generation is stale, and lets exactly one racer win', async () => {
    const store = await openStore(mkdtempSync(path.join(tmpdir(), 'sw-store-')));
    const first = await store.write('latest.json', 'v1', { ifGenerationMatch: '0' });
    await expect(store.write('latest.json', 'x', { ifGenerationMatch: '0' })).rejects.toMatchObject({ code: 'STORAGE_PRECONDITION' });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => store.write('latest.json', `v${i + 2}`, { ifGenerationMatch: first.generation })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && isSkywatchError(r.reason, 'STORAGE_PRECONDITION'))).toHaveLength(7);
  });

  it('rejects keys that climb out of the root and unknown URL schemes', async () => {
    const store = await openStore(mkdtempSync(path.join(tmpdir(), 'sw-store-')));
    await expect(store.write('../escape', 'x')).rejects.toThrow(/invalid storage key/);
    await expect(openStore('s3://bucket/x')).rejects.toMatchObject({ code: 'STORAGE_URL_INVALID' });
  });
});
