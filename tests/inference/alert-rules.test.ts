import { describe, expect, it } from 'vitest';
import { AlertRules } from '../../inference/alert-rules.js';

const box = { x: 1, y: 2, width: 3, height: 4, area: 12 };
const rules = () => new AlertRules({ k: 3, n: 5, threshold: 0.6, cooldownMs: 10_000, endAfterMs: 2_000 });
const obs = (score: number, at: number, label = 'drone', cameraId = 'cam1') => ({ cameraId, label, score, box, at });

describe('AlertRules', () => {
  it('opens on k of the last n frames, then updates, closes after a quiet spell, then cools down', () => {
    const r = rules();
    expect(r.observe(obs(0.9, 0))).toEqual([]);
    expect(r.observe(obs(0.2, 200))).toEqual([]);
    expect(r.observe(obs(0.8, 400))).toEqual([]);
    const open = r.observe(obs(0.7, 600));
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ kind: 'open', frames: 3, firstAt: 600, score: 0.7 });
    r.setAlertId('cam1', 'drone', '1-0');
    // Updates at most once a second: the frame at 800 counts but is not sent on its own.
    expect(r.observe(obs(0.95, 800))).toEqual([]);
    const update = r.observe(obs(0.85, 1600));
    expect(update[0]).toMatchObject({ kind: 'update', alertId: '1-0', frames: 5, score: 0.95, lastScore: 0.85, lastAt: 1600 });
    expect(r.observe(obs(0.1, 1800))).toEqual([]);
    const closed = r.observe(obs(0.9, 3700));
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ kind: 'closed', alertId: '1-0', frames: 5, lastAt: 1600 });
    // Cooldown: hits for the next 10 s open nothing.
    for (let t = 3900; t < 13_600; t += 200) expect(r.observe(obs(0.9, t)).filter((e) => e.kind === 'open')).toEqual([]);
    expect(r.observe(obs(0.9, 13_800)).map((e) => e.kind)).toEqual(['open']);
  });

  it('keeps cameras and labels apart, and ignores labels it is not told to watch', () => {
    const r = new AlertRules({ k: 2, n: 3, threshold: 0.5, cooldownMs: 0, endAfterMs: 1000, labels: ['drone'] });
    r.observe(obs(0.9, 0, 'drone', 'a'));
    expect(r.observe(obs(0.9, 100, 'drone', 'b'))).toEqual([]);
    expect(r.observe(obs(0.9, 200, 'drone', 'a'))[0].kind).toBe('open');
    expect(r.observe(obs(0.99, 300, 'bird', 'a'))).toEqual([]);
    expect(r.expire(5000).map((e) => [e.cameraId, e.kind])).toEqual([['a', 'closed']]);
  });

  it('never opens on isolated high frames', () => {
    const r = rules();
    let opened = 0;
    for (let i = 0; i < 50; i++) opened += r.observe(obs(i % 3 === 0 ? 0.9 : 0.1, i * 200)).filter((e) => e.kind === 'open').length;
    expect(opened).toBe(0);
  });
});
