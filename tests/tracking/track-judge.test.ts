import { describe, expect, it } from 'vitest';
import { MeanVerdict } from '../../tracking/mean-verdict.js';
import { Track } from '../../tracking/track.js';
import { TrackJudge, type TrackAlertEvent } from '../../tracking/track-judge.js';

const LABELS = ['bird', 'drone'];

function track(id: number, n: number): Track {
  const t = new Track(id, { seq: 0, at: 0, box: { x: 10, y: 10, width: 8, height: 8 }, area: 40 });
  for (let i = 1; i < n; i++) t.points.push({ seq: i, at: i * 200, box: { x: 10 + i * 4, y: 10, width: 8, height: 8 }, area: 40 });
  return t;
}

function judge(minCrops = 3): TrackJudge {
  return new TrackJudge({ verdict: new MeanVerdict(LABELS), threshold: 0.6, alertLabels: ['drone'], minCrops, updateEveryMs: 1_000, frameWidth: 640, frameHeight: 480 });
}

const drone = [0.1, 0.9];
const bird = [0.8, 0.2];

async function play(j: TrackJudge, t: Track, order: number[], scores: number[][]): Promise<TrackAlertEvent[]> {
  const events: TrackAlertEvent[] = [];
  for (const i of order) events.push(...(await j.addScores(t, t.points[i].seq, scores[i])));
  events.push(...(await j.endTrack(t)));
  return events;
}

describe('TrackJudge', () => {
  it('opens one alert per track once enough crops agree, updates it while it lives and closes it at the end', async () => {
    const t = track(1, 12);
    const events = await play(judge(), t, t.points.map((_p, i) => i), t.points.map(() => drone));
    // Opened at 400 ms (third crop), one update a second later (1400 ms); the track ends at 2200 ms.
    expect(events.map((e) => [e.kind, e.lastAt])).toEqual([['open', 400], ['update', 1400], ['closed', 2200]]);
    expect(events[0].frames).toBe(3);
    expect(events[0].lastAt).toBe(400);
    expect(events.at(-1)!.frames).toBe(12);
    expect(events.at(-1)!.path).toHaveLength(12);
    expect(events.every((e) => e.trackId === 1 && e.label === 'drone' && e.score > 0.6)).toBe(true);
  });

  it('gives the same events whatever order the results come back in (several workers)', async () => {
    const scores = [bird, drone, drone, bird, drone, drone, drone, bird, drone, drone];
    const inOrder = await play(judge(), track(7, 10), [...Array(10).keys()], scores);
    const shuffled = await play(judge(), track(7, 10), [9, 3, 0, 5, 1, 8, 2, 7, 4, 6], scores);
    expect(shuffled).toEqual(inOrder);
    expect(inOrder.filter((e) => e.kind === 'open')).toHaveLength(1);
  });

  it('raises nothing for a bird, nor before minCrops, and skips dropped crops', async () => {
    const t = track(2, 8);
    expect(await play(judge(), t, [...Array(8).keys()], t.points.map(() => bird))).toEqual([]);
    const j = judge(5);
    const u = track(3, 4);
    expect(await play(j, u, [0, 1, 2, 3], u.points.map(() => drone))).toEqual([]);
    const dropped = judge(2);
    const v = track(4, 3);
    const events: TrackAlertEvent[] = [];
    events.push(...(await dropped.addScores(v, 0, drone)));
    events.push(...(await dropped.addScores(v, 1, null)));
    events.push(...(await dropped.addScores(v, 2, drone)));
    expect(events.map((e) => [e.kind, e.frames])).toEqual([['open', 2]]);
    expect(dropped.liveTracks).toBe(1);
    expect((await dropped.endTrack(v)).map((e) => e.kind)).toEqual(['closed']);
    expect(dropped.liveTracks).toBe(0);
  });

  it('closes only when every expected result is in', async () => {
    const j = judge(2);
    const t = track(5, 4);
    await j.addScores(t, 0, drone);
    await j.addScores(t, 1, drone);
    expect(await j.endTrack(t)).toEqual([]);
    await j.addScores(t, 3, drone);
    const last = await j.addScores(t, 2, drone);
    expect(last.at(-1)!.kind).toBe('closed');
    expect(last.at(-1)!.frames).toBe(4);
  });
});
