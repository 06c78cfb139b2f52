import { describe, expect, it } from 'vitest';
import { StreamClock } from '../../ingest/stream-clock.js';

describe('StreamClock', () => {
  it('keeps the timeline on the stream timestamps from the first arrival, whatever comes late or early', () => {
    const clock = new StreamClock();
    expect(clock.anchor).toBeNull();
    expect(clock.capture(0, 10_000)).toBe(10_000);
    // Processed 900 ms late: the capture time is still the stream's.
    expect(clock.capture(200, 11_100)).toBe(10_200);
    // Jitter ahead within 250 ms moves nothing.
    expect(clock.capture(400, 10_300)).toBe(10_400);
    expect(clock.skewMs).toBe(0);
    // Frames arriving well ahead (the first one came late): the timeline keeps its spacing...
    expect(clock.capture(1_000, 10_500)).toBe(11_000);
    expect(clock.anchor).toBe(10_000);
    // ...and the wall estimate moves back: timestamp 0 was captured at 9,500.
    expect(clock.wallAnchor).toBe(9_500);
    expect(clock.skewMs).toBe(500);
    expect(clock.wall(11_000)).toBe(10_500);
    // A later frame on time against the new estimate moves nothing more; a late one neither.
    expect(clock.capture(1_200, 10_700)).toBe(11_200);
    expect(clock.capture(1_400, 12_000)).toBe(11_400);
    expect(clock.skewMs).toBe(500);
    // A frame stamped earlier than the last capture still comes after it.
    expect(clock.capture(1_390, 12_000)).toBe(11_401);
  });

  it('keeps frames of a connect burst their own spacing on the timeline', () => {
    const clock = new StreamClock();
    // Ten buffered frames (200 ms apart in the stream) delivered within 45 ms.
    const times = Array.from({ length: 10 }, (_, i) => clock.capture(i * 200, 50_000 + 5 * i));
    expect(times.slice(1).map((t, i) => t - times[i])).toEqual(Array(9).fill(200));
    // The first was captured about 1.8 s before it arrived: the wall estimate says so, to within the
    // 250 ms of jitter it ignores.
    const early = 50_000 - clock.wall(times[0]);
    expect(early).toBeGreaterThanOrEqual(1_800 - 250);
    expect(early).toBeLessThanOrEqual(1_800);
    expect(clock.wall(times[9]) - clock.wall(times[0])).toBe(1_800);
  });
});
