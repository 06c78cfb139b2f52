import { describe, expect, it } from 'vitest';
import { Tracker, type MovingRegion } from '../../tracking/tracker.js';

const box = (x: number, y: number, size = 10): MovingRegion => ({ x, y, width: size, height: size, area: size * size });

describe('Tracker', () => {
  it('follows two objects that cross, keeping their ids by predicted position', () => {
    const tracker = new Tracker(640, 480);
    const seen = new Map<number, Array<{ x: number; seq: number }>>();
    for (let seq = 0; seq < 12; seq++) {
      // A goes right, B goes left, along the same row: they pass each other around seq 6.
      const regions = [box(100 + seq * 20, 200), box(340 - seq * 20, 203)];
      const { observed } = tracker.update(regions, seq, seq * 200);
      for (const t of observed) seen.set(t.id, [...(seen.get(t.id) ?? []), { x: t.last.box.x, seq }]);
    }
    expect([...seen.keys()]).toEqual([1, 2]);
    const a = seen.get(1)!.map((p) => p.x);
    const b = seen.get(2)!.map((p) => p.x);
    // Each id keeps moving in its own direction through the crossing.
    expect(a.every((x, i) => i === 0 || x > a[i - 1])).toBe(true);
    expect(b.every((x, i) => i === 0 || x < b[i - 1])).toBe(true);
  });

  it('confirms after two matches, ignores one-frame flicker and ends a track after its gap', () => {
    const tracker = new Tracker(640, 480, { maxGapMs: 1_000 });
    const first = tracker.update([box(50, 50)], 0, 0);
    expect(first.observed[0].confirmed).toBe(false);
    const second = tracker.update([box(55, 50), box(400, 400)], 1, 200);
    const main = second.observed.find((t) => t.id === 1)!;
    expect(main.confirmed).toBe(true);
    expect(second.observed.find((t) => t.id === 2)!.confirmed).toBe(false);
    // The flicker (id 2) never comes back: dropped silently; the main object is hidden for a while.
    let ended: number[] = [];
    for (let seq = 2; seq < 10; seq++) ended = ended.concat(tracker.update([], seq, seq * 200).ended.map((t) => t.id));
    expect(ended).toEqual([1]);
    expect(tracker.tracks).toHaveLength(0);
  });

  it('bridges a short gap: the same object after two missed frames keeps its track', () => {
    const tracker = new Tracker(640, 480);
    tracker.update([box(100, 100)], 0, 0);
    tracker.update([box(110, 100)], 1, 200);
    tracker.update([], 2, 400);
    tracker.update([], 3, 600);
    const { observed } = tracker.update([box(140, 100)], 4, 800);
    expect(observed.map((t) => t.id)).toEqual([1]);
    expect(observed[0].points.map((p) => p.seq)).toEqual([0, 1, 4]);
    expect(tracker.endAll().map((t) => t.id)).toEqual([1]);
  });

  it('caps live tracks per camera', () => {
    const tracker = new Tracker(640, 480, { maxTracks: 3 });
    const regions = Array.from({ length: 8 }, (_v, i) => box(i * 70, 10));
    tracker.update(regions, 0, 0);
    expect(tracker.tracks).toHaveLength(3);
  });
});
