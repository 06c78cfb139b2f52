import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trackClip } from '../../tracking/clip-tracks.js';
import { MeanVerdict } from '../../tracking/mean-verdict.js';
import { Track } from '../../tracking/track.js';
import { TrackJudge, type TrackAlertEvent } from '../../tracking/track-judge.js';

/**
 * Re-identification in the judge: a drone the motion stage loses for a while comes back as a new track;
 * when it comes back soon and near where it was lost, its alert goes on instead of a second one opening.
 * Tracks are fed as a camera feeds them: frame by frame at 5 fps, each track's first (unconfirmed) point
 * answered null at once, its end reported at the first frame maxGapMs (1500 ms) after its last point, a
 * tick per frame.
 */
const LABELS = ['bird', 'drone'];
const drone = [0.1, 0.9];
const bird = [0.8, 0.2];
const FRAME_MS = 200;

/** A 10 px object moving 3 px right per frame from (x, y), seen at frames first..last. */
function track(id: number, first: number, last: number, x: number, y: number): Track {
  const point = (f: number) => ({ seq: f, at: f * FRAME_MS, box: { x: x + (f - first) * 3, y, width: 10, height: 10 }, area: 60 });
  const t = new Track(id, point(first));
  for (let f = first + 1; f <= last; f++) t.points.push(point(f));
  return t;
}

function judge(rejoinMs = 4_000): TrackJudge {
  return new TrackJudge({ verdict: new MeanVerdict(LABELS), threshold: 0.6, alertLabels: ['drone'], minCrops: 3, updateEveryMs: 1_000, frameWidth: 640, frameHeight: 480, rejoinMs, rejoinSizes: 4, rejoinSizesPerSecond: 2 });
}

interface Feed {
  tracks: Track[];
  scores: Map<number, number[]>;
}

/**
 * Plays tracks through the judge frame by frame. `delay` holds back the scored results (not the null of
 * a first point, nor ticks and ends, which the camera issues itself) until the end, in the given order:
 * what several workers answering out of order do.
 */
async function play(j: TrackJudge, feed: Feed, options: { delay?: (results: Array<() => Promise<TrackAlertEvent[]>>) => Array<() => Promise<TrackAlertEvent[]>>; flush?: boolean } = {}): Promise<TrackAlertEvent[]> {
  const events: TrackAlertEvent[] = [];
  const held: Array<() => Promise<TrackAlertEvent[]>> = [];
  const lastFrame = Math.max(...feed.tracks.map((t) => t.last.seq)) + 1500 / FRAME_MS + 30;
  for (let f = 0; f <= lastFrame; f++) {
    for (const t of feed.tracks) {
      const i = t.points.findIndex((p) => p.seq === f);
      if (i === 0) events.push(...(await j.addScores(t, f, null)));
      else if (i > 0) {
        const result = () => j.addScores(t, f, feed.scores.get(t.id)!);
        if (options.delay) held.push(result);
        else events.push(...(await result()));
      }
      if (f === t.last.seq + Math.ceil(1500 / FRAME_MS)) events.push(...(await j.endTrack(t)));
    }
    events.push(...(await j.tick(f * FRAME_MS)));
  }
  if (options.delay) for (const r of options.delay(held)) events.push(...(await r()));
  if (options.flush !== false) events.push(...(await j.flush()));
  return events;
}

const kinds = (events: TrackAlertEvent[]) => events.map((e) => `${e.kind} ${e.trackId}`);

describe('TrackJudge rejoin', () => {
  it('continues the alert of a drone lost for 2 s that reappears near its last box: one alert', async () => {
    // Lost after frame 10 (2000 ms), back at frame 20 (4000 ms) 12 px from where it was.
    const a = track(1, 0, 10, 100, 100);
    const b = track(2, 20, 35, 142, 104);
    const events = await play(judge(), { tracks: [a, b], scores: new Map([[1, drone], [2, drone]]) });
    expect(events.filter((e) => e.kind === 'open')).toHaveLength(1);
    expect(events.filter((e) => e.kind === 'closed')).toHaveLength(1);
    expect(events.every((e) => e.trackId === 1 && e.label === 'drone')).toBe(true);
    expect(events[0].kind).toBe('open');
    expect(events.at(-1)!.kind).toBe('closed');
    // The rejoining track's would-be open is an update of the first alert, at its third crop (frame 23).
    const rejoined = events.find((e) => e.lastAt === 23 * FRAME_MS)!;
    expect(rejoined.kind).toBe('update');
    expect(rejoined.frames).toBe(10 + 3);
    const closed = events.at(-1)!;
    expect(closed.firstAt).toBe(0);
    expect(closed.lastAt).toBe(35 * FRAME_MS);
    expect(closed.frames).toBe(10 + 15);
    expect(closed.path).toHaveLength(11 + 16);
    expect(closed.path.map((p) => p.at)).toEqual([...a.path(), ...b.path()].map((p) => p.at));
    // Both tracks are named, so the alert's best crops come from either.
    expect(events[0].tracks).toEqual([1]);
    expect(closed.tracks).toEqual([1, 2]);
    // Closed by a tick (rejoinMs after the last point), not by the flush at the end.
    const withoutFlush = await play(judge(), { tracks: [track(1, 0, 10, 100, 100), track(2, 20, 35, 142, 104)], scores: new Map([[1, drone], [2, drone]]) }, { flush: false });
    expect(kinds(withoutFlush)).toEqual(kinds(events));
  });

  it('a fence (a looping file playing again) keeps the next pass from continuing the last pass\'s alert', async () => {
    // Pass 1: a drone seen at frames 0-10; its last two crops are still being scored when the file ends.
    // Pass 2 starts at frame 11 with the same drone where the clip starts, 18 px from where it was.
    const run = async (fenced: boolean) => {
      const j = judge();
      const events: TrackAlertEvent[] = [];
      const a = track(1, 0, 10, 100, 100);
      for (let f = 0; f <= 8; f++) {
        events.push(...(await j.addScores(a, f, f === 0 ? null : drone)));
        events.push(...(await j.tick(f * FRAME_MS)));
      }
      events.push(...(await j.endTrack(a)), ...(await j.flush()));
      if (fenced) events.push(...(await j.fence(10 * FRAME_MS)));
      const b = track(2, 11, 25, 112, 100);
      for (let f = 11; f <= 25; f++) {
        if (f === 12) for (const late of [9, 10]) events.push(...(await j.addScores(a, late, drone)));
        events.push(...(await j.addScores(b, f, f === 11 ? null : drone)));
        events.push(...(await j.tick(f * FRAME_MS)));
      }
      events.push(...(await j.endTrack(b)), ...(await j.flush()));
      return kinds(events).filter((k) => !k.startsWith('update'));
    };
    expect(await run(true)).toEqual(['open 1', 'closed 1', 'open 2', 'closed 2']);
    // Without it the held alert was still waiting for its object, and the next pass's drone joined it.
    expect(await run(false)).toEqual(['open 1', 'closed 1']);
  });

  it('one alert when a second track lives on the same drone at once', async () => {
    const a = track(1, 0, 20, 100, 100);
    const b = track(2, 8, 30, 130, 110);
    const events = await play(judge(), { tracks: [a, b], scores: new Map([[1, drone], [2, drone]]) });
    expect(kinds(events).filter((k) => !k.startsWith('update'))).toEqual(['open 1', 'closed 1']);
    expect(events.at(-1)!.lastAt).toBe(30 * FRAME_MS);
  });

  it('two alerts when the new track appears far away, or after the window', async () => {
    // Far away: its own alert opens (frame 23) while the first one is still held (until 6000 ms).
    const far = await play(judge(), { tracks: [track(1, 0, 10, 100, 100), track(2, 20, 35, 400, 300)], scores: new Map([[1, drone], [2, drone]]) });
    expect(kinds(far).filter((k) => !k.startsWith('update'))).toEqual(['open 1', 'open 2', 'closed 1', 'closed 2']);
    // Back 5 s after it was lost, past a 4 s window: its alert closed at 6000 ms, before the new track started.
    const late = await play(judge(), { tracks: [track(1, 0, 10, 100, 100), track(2, 35, 50, 130, 100)], scores: new Map([[1, drone], [2, drone]]) });
    expect(kinds(late).filter((k) => !k.startsWith('update'))).toEqual(['open 1', 'closed 1', 'open 2', 'closed 2']);
    // Without rejoin, the 2 s loss of the first case is two alerts, each closed as its track ends.
    const off = await play(judge(0), { tracks: [track(1, 0, 10, 100, 100), track(2, 20, 35, 142, 104)], scores: new Map([[1, drone], [2, drone]]) });
    expect(kinds(off).filter((k) => !k.startsWith('update'))).toEqual(['open 1', 'closed 1', 'open 2', 'closed 2']);
  });

  it('a bird near a lost drone does not take its alert, and the drone alert closes when the bird cannot rejoin any more', async () => {
    const events = await play(judge(), { tracks: [track(1, 0, 10, 100, 100), track(2, 20, 60, 142, 104)], scores: new Map([[1, drone], [2, bird]]) });
    expect(kinds(events).filter((k) => !k.startsWith('update'))).toEqual(['open 1', 'closed 1']);
  });

  it('emits a held close on tick once the window is over, and on flush', async () => {
    const j = judge();
    const a = track(1, 0, 10, 100, 100);
    const events: TrackAlertEvent[] = [];
    for (const p of a.points) events.push(...(await j.addScores(a, p.seq, drone)));
    events.push(...(await j.endTrack(a)));
    expect(kinds(events)).toEqual(['open 1', 'update 1']);
    expect(j.liveTracks).toBe(1);
    expect(await j.tick(2000 + 3_999)).toEqual([]);
    const closed = await j.tick(2000 + 4_000);
    expect(kinds(closed)).toEqual(['closed 1']);
    expect(closed[0].lastAt).toBe(2000);
    expect(closed[0].frames).toBe(11);
    expect(j.liveTracks).toBe(0);

    const k = judge();
    const b = track(3, 0, 10, 100, 100);
    for (const p of b.points) await k.addScores(b, p.seq, drone);
    expect(await k.endTrack(b)).toEqual([]);
    expect(kinds(await k.flush())).toEqual(['closed 3']);
  });

  it('gives the same events whatever order the results come back in', async () => {
    // A drone lost and back, a second track on it for a while, and a bird crossing elsewhere.
    const feed = (): Feed => ({
      tracks: [track(1, 0, 10, 100, 100), track(2, 20, 40, 142, 104), track(3, 25, 32, 150, 110), track(4, 5, 30, 400, 50)],
      scores: new Map([[1, drone], [2, drone], [3, drone], [4, bird]]),
    });
    const inOrder = await play(judge(), feed());
    expect(kinds(inOrder).filter((k) => !k.startsWith('update'))).toEqual(['open 1', 'closed 1']);
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    for (const delay of [(r: Array<() => Promise<TrackAlertEvent[]>>) => [...r].reverse(), (r: Array<() => Promise<TrackAlertEvent[]>>) => [...r].sort(() => random() - 0.5)]) {
      const shuffled = await play(judge(), feed(), { delay });
      expect(shuffled).toEqual(inOrder);
    }
  });
});

const CLIP = path.resolve('../shared/data/videos/drone/V_DRONE_102.mp4');

describe.skipIf(!existsSync(CLIP))('TrackJudge rejoin on a real clip (skipped without ../shared/data)', () => {
  it('V_DRONE_102, lost by motion three times: fewer alerts, each opened and closed once, the same in any result order', async () => {
    // The live stages follow the clip; every crop is scored a drone, so every track long enough alerts
    // without rejoin, and what rejoin merges is decided by time and place alone.
    const steps: Array<{ at: number; observed: Track[]; ended: Track[] }> = [];
    for await (const s of trackClip(CLIP, { fps: 5 })) steps.push({ at: s.at, observed: s.observed.filter((t) => t.confirmed), ended: s.ended });
    const run = async (rejoinMs: number, reorder: boolean): Promise<TrackAlertEvent[]> => {
      const j = judge(rejoinMs);
      const events: TrackAlertEvent[] = [];
      const held: Array<() => Promise<TrackAlertEvent[]>> = [];
      const seen = new Set<number>();
      for (const step of steps) {
        for (const t of step.observed) {
          const upTo = t.points.findIndex((p) => p.at === step.at);
          // As a camera does: points from before confirmation are never cropped.
          if (!seen.has(t.id)) for (const p of t.points.slice(0, upTo)) events.push(...(await j.addScores(t, p.seq, null)));
          seen.add(t.id);
          const seq = t.points[upTo].seq;
          const result = () => j.addScores(t, seq, drone);
          if (reorder) held.push(result);
          else events.push(...(await result()));
        }
        for (const t of step.ended) if (seen.has(t.id)) events.push(...(await j.endTrack(t)));
        events.push(...(await j.tick(step.at)));
      }
      for (const r of held.reverse()) events.push(...(await r()));
      events.push(...(await j.flush()));
      return events;
    };
    const off = await run(0, false);
    const on = await run(4_000, false);
    const opens = (events: TrackAlertEvent[]) => events.filter((e) => e.kind === 'open').length;
    expect(opens(off)).toBeGreaterThan(opens(on));
    expect(opens(on)).toBeGreaterThan(0);
    for (const events of [off, on]) {
      const byAlert = new Map<number, TrackAlertEvent[]>();
      for (const e of events) byAlert.set(e.trackId, [...(byAlert.get(e.trackId) ?? []), e]);
      for (const group of byAlert.values()) {
        expect(group.map((e) => e.kind).filter((k) => k !== 'update')).toEqual(['open', 'closed']);
        expect(group.at(-1)!.frames).toBeGreaterThanOrEqual(group[0].frames);
      }
    }
    expect(await run(4_000, true)).toEqual(on);
  }, 120_000);
});
