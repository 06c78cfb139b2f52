import { afterAll, describe, expect, it } from 'vitest';
import { createCamera, patchCamera } from '../../ingest/camera.js';
import { RedisCameraStore } from '../../ingest/redis-camera-store.js';
import { AlertRules } from '../../inference/alert-rules.js';
import { CameraAlertPolicies } from '../../inference/camera-alert-policy.js';
import { createRedis } from '../../queue/redis-connection.js';

const prefix = `test-policy-${process.pid}-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});
const rules = { allowFileUrls: false, defaultFps: 5 };
const box = (x: number, y: number, size = 20) => ({ x, y, width: size, height: size, area: size * size });

describe('camera alert policies', () => {
  it("read zones, threshold and labels from the camera store and follow a change after the cache time", async () => {
    const store = new RedisCameraStore(redis, prefix);
    const right = createCamera({ name: 'r', url: 'rtsp://cam.local/1', alertZones: [[[0.5, 0], [1, 0], [1, 1], [0.5, 1]]], threshold: 0.9 }, rules);
    await store.create(right);
    let clock = 0;
    const policies = new CameraAlertPolicies(store, 1_000, () => clock);
    const p = (await policies.get(right.id))!;
    // 640x480 frame: a box centred at x=50 is outside the right half, one at x=500 inside.
    expect(p.admits(box(40, 100), 640, 480)).toBe(false);
    expect(p.admits(box(490, 100), 640, 480)).toBe(true);
    // The whole-frame crop of a whole-frame model is always judged.
    expect(p.admits(box(0, 0, 640), 640, 480)).toBe(true);
    expect(p.rule).toEqual({ threshold: 0.9, labels: ['drone'] });
    expect(await policies.get('cam_unknown')).toBeNull();

    await store.update(patchCamera(right, { alertZones: [], labels: ['drone', 'bird'] }, rules));
    expect((await policies.get(right.id))!.zones).toHaveLength(1);
    clock = 1_500;
    const changed = (await policies.get(right.id))!;
    expect(changed.admits(box(40, 100), 640, 480)).toBe(true);
    expect(changed.rule.labels).toEqual(['drone', 'bird']);
  });

  it("a camera's threshold and labels override the rules' settings", () => {
    const r = new AlertRules({ k: 1, n: 1, threshold: 0.5, cooldownMs: 0, endAfterMs: 1_000 });
    expect(r.observe({ cameraId: 'a', label: 'drone', score: 0.7, box: null, at: 1, threshold: 0.9 })).toEqual([]);
    expect(r.observe({ cameraId: 'b', label: 'drone', score: 0.7, box: null, at: 1 })).toHaveLength(1);
    expect(r.observe({ cameraId: 'c', label: 'bird', score: 0.99, box: null, at: 1, labels: ['drone'] })).toEqual([]);
  });
});
