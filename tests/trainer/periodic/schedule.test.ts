import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../../trainer/periodic/schedule.js';

describe('parseSchedule', () => {
  const t0 = new Date('2026-11-24T10:15:00Z');

  it('reads intervals', () => {
    expect(parseSchedule('24h').next(t0).toISOString()).toBe('2026-11-25T10:15:00.000Z');
    expect(parseSchedule('30m').next(t0).toISOString()).toBe('2026-11-24T10:45:00.000Z');
    expect(parseSchedule('1d').next(t0).getTime() - t0.getTime()).toBe(86_400_000);
  });

  it('reads cron expressions', () => {
    expect(parseSchedule('0 3 * * *').next(t0).getHours()).toBe(3);
    expect(parseSchedule('*/20 * * * *').next(t0).toISOString()).toBe('2026-11-24T10:20:00.000Z');
  });

  it('refuses nonsense with a clear message', () => {
    expect(() => parseSchedule('often')).toThrow(/interval like 24h/);
    expect(() => parseSchedule('99 99 * * *')).toThrow(/invalid cron/);
    expect(() => parseSchedule('0s')).toThrow(/at least 1s/);
  });
});
