import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStore } from '../../core/storage/local-store.js';
import { createRedis } from '../../queue/redis-connection.js';
import type { AlertRecord } from '../../review/alert-record.js';
import { feedbackLabel, FeedbackStore, FEEDBACK_INDEX } from '../../review/feedback-store.js';
import { redisCropSource } from '../../review/redis-crop-source.js';

const prefix = `test-feedback-${process.pid}-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const record = (alertId: string, over: Partial<AlertRecord> = {}): AlertRecord => ({
  alertId, cameraId: 'cam', label: 'drone', score: 0.9, status: 'closed', firstAt: 1, lastAt: 2, frames: 3, box: { x: 40, y: 20, width: 40, height: 30, area: 1200 },
  snapshotUrl: 'v1/review/x/snapshot.jpg', clipUrl: null, modelVersion: 'v1', uncertain: false, review: null, ...over,
});
const jpeg = (w: number, h: number) => sharp({ create: { width: w, height: h, channels: 3, background: { r: 10, g: 200, b: 10 } } }).jpeg().toBuffer();
const png = (w: number) => sharp({ create: { width: w, height: w, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toBuffer();
const newStore = () => new LocalStore(mkdtempSync(path.join(tmpdir(), 'sw-feedback-store-')));

describe('feedback data set', () => {
  it('teaches the confirmed, the corrected, or "other" for an unnamed false alarm', () => {
    expect(feedbackLabel({ label: 'drone' }, { action: 'acknowledge' })).toBe('drone');
    expect(feedbackLabel({ label: 'drone' }, { action: 'false_alarm' })).toBe('other');
    expect(feedbackLabel({ label: 'drone' }, { action: 'false_alarm', label: 'bird' })).toBe('bird');
    expect(feedbackLabel({ label: 'bird' }, { action: 'relabel', label: 'helicopter' })).toBe('helicopter');
  });

  it('cuts the crop inside the drawn box, keeps the snapshot apart, and a re-judged alert replaces its files', async () => {
    const store = newStore();
    const feedback = new FeedbackStore(store);
    const snapshot = await jpeg(320, 240);
    const first = await feedback.save(record('5-0'), { action: 'false_alarm', by: 'admin:ab', at: 10 }, snapshot);
    expect(first).toMatchObject({ label: 'other', files: ['feedback/other/5-0-0.png'], snapshot: 'feedback/snapshots/5-0.jpg', by: 'admin:ab', at: 10, alertLabel: 'drone' });
    const meta = await sharp(await store.read(first.files[0])).metadata();
    // 40x30 box, 3 px in from each side (stroke 2 px at 320 wide, plus one).
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 34, 24]);
    const again = await feedback.save(record('5-0'), { action: 'relabel', label: 'bird', by: 'admin:cd', at: 20 }, snapshot);
    expect(again.files).toEqual(['feedback/bird/5-0-0.png']);
    expect(await store.stat('feedback/other/5-0-0.png')).toBeNull();
    expect((await feedback.entries()).map((e) => e.label)).toEqual(['other', 'bird']);
    expect([...(await feedback.current()).values()].map((e) => e.label)).toEqual(['bird']);
    // An alert without a box (whole-frame model) gives the whole snapshot; without a snapshot, no crop.
    expect((await feedback.save(record('6-0', { box: null }), { action: 'acknowledge', by: 'a', at: 30 }, snapshot)).files).toHaveLength(1);
    expect((await feedback.save(record('7-0'), { action: 'acknowledge', by: 'a', at: 40 }, null)).files).toEqual([]);
  });

  it("uses the track's crops from Redis when the alert names them", async () => {
    const feedback = new FeedbackStore(newStore(), redisCropSource(redis));
    const key = `${prefix}:crops:t1`;
    await redis.rpush(key, await png(24), await png(32), await png(40));
    const entry = await feedback.save(record('8-0', { cropsKey: key }), { action: 'acknowledge', by: 'a', at: 1 }, await jpeg(320, 240));
    expect(entry.files).toEqual(['feedback/drone/8-0-0.png', 'feedback/drone/8-0-1.png', 'feedback/drone/8-0-2.png']);
    // Expired crops: back to the snapshot.
    const gone = await feedback.save(record('9-0', { cropsKey: `${prefix}:crops:gone` }), { action: 'acknowledge', by: 'a', at: 2 }, await jpeg(320, 240));
    expect(gone.files).toHaveLength(1);
  });

  it('never loses an index line when two writers append at once', async () => {
    const store = newStore();
    const a = new FeedbackStore(store);
    const b = new FeedbackStore(store);
    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).save(record(`${100 + i}-0`), { action: 'acknowledge', by: 'x', at: i }, null)));
    const lines = (await store.read(FEEDBACK_INDEX)).toString().trim().split('\n');
    expect(lines).toHaveLength(12);
  });

  it('materialises the current feedback with a fingerprint that changes with it', async () => {
    const store = newStore();
    const feedback = new FeedbackStore(store);
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-feedback-local-'));
    expect(await feedback.materialize(dir)).toEqual({ items: [], fingerprint: null });
    await feedback.save(record('1-0'), { action: 'relabel', label: 'bird', by: 'x', at: 1 }, await jpeg(320, 240));
    const one = await feedback.materialize(dir);
    expect(one.items).toEqual([{ path: path.join(dir, 'feedback', 'bird', '1-0-0.png'), label: 'bird' }]);
    expect((await feedback.materialize(dir)).fingerprint).toBe(one.fingerprint);
    await feedback.save(record('2-0'), { action: 'acknowledge', by: 'x', at: 2 }, await jpeg(320, 240));
    const two = await feedback.materialize(dir);
    expect(two.items).toHaveLength(2);
    expect(two.fingerprint).not.toBe(one.fingerprint);
  });
});
