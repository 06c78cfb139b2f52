import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainingDataFolder } from '../../../trainer/data/split-folders.js';

describe('train --data on a folder of split folders', () => {
  it('trains from train/ and sets the other splits aside, instead of taking "train" and "valid" as labels', () => {
    const shared = path.resolve('../shared/data/images');
    expect(trainingDataFolder(shared)).toEqual({ folder: path.join(shared, 'train'), setAside: ['valid'] });
    expect(trainingDataFolder(path.join(shared, 'train'))).toEqual({ folder: path.join(shared, 'train'), setAside: [] });
  });

  it('leaves label folders, mixed folders and remote data alone', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-splits-'));
    for (const f of ['labels/bird', 'labels/drone', 'mixed/train/bird', 'mixed/drone']) mkdirSync(path.join(dir, f), { recursive: true });
    expect(trainingDataFolder(path.join(dir, 'labels')).folder).toBe(path.join(dir, 'labels'));
    expect(trainingDataFolder(path.join(dir, 'mixed')).folder).toBe(path.join(dir, 'mixed'));
    expect(trainingDataFolder('gs://bucket/data').folder).toBe('gs://bucket/data');
  });
});
