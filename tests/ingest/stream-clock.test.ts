import { describe, expect, it } from 'vitest';
import { StreamClock } from '../../ingest/stream-clock.js';

describe('StreamClock', () => {
  it('follows the stream timestamps from the first arrival, ignores lateness, re-anchors only when running ahead, never goes back', () => {
    const clock = new StreamClock();
    expect(clock.anchor).toBeNull();
    expect(clock.capture(0, 10_000)).toBe(10_000);
    // Processed 900 ms late: the capture time is still the stream's.
    expect(clock.capture(200, 11_100)).toBe(10_200);
    // Jitter ahead within 250 ms keeps the anchor.
    expect(clock.capture(400, 10_300)).toBe(10_400);
    // A stream that paused and bursts ahead of the wall clock is re-anchored...
    expect(clock.capture(5_000, 10_500)).toBe(10_500);
    expect(clock.anchor).toBe(5_500);
    // ...and a frame stamped earlier than the last capture still comes after it.
    expect(clock.capture(4_990, 10_500)).toBe(10_501);
  });
});
