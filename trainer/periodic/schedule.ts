import { CronExpressionParser } from 'cron-parser';
import { SkywatchError } from '../../core/errors.js';

/** When the periodic trainer runs next: a fixed interval ("24h", "30m") or a cron expression. */
export interface Schedule {
  readonly spec: string;
  next(after: Date): Date;
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseSchedule(spec: string): Schedule {
  const trimmed = spec.trim();
  const interval = /^(\d+(?:\.\d+)?)\s*([smhd])$/i.exec(trimmed);
  if (interval) {
    const ms = Number(interval[1]) * UNIT_MS[interval[2].toLowerCase()];
    if (!(ms >= 1_000)) throw new SkywatchError('BAD_REQUEST', `schedule interval must be at least 1s: ${spec}`);
    return { spec: trimmed, next: (after) => new Date(after.getTime() + ms) };
  }
  if (trimmed.split(/\s+/).length >= 5) {
    try {
      CronExpressionParser.parse(trimmed);
    } catch (err) {
      throw new SkywatchError('BAD_REQUEST', `invalid cron expression "${spec}": ${(err as Error).message}`);
    }
    return { spec: trimmed, next: (after) => CronExpressionParser.parse(trimmed, { currentDate: after }).next().toDate() };
  }
  throw new SkywatchError('BAD_REQUEST', `schedule must be an interval like 24h, 30m, 90s, 1d or a cron expression, got "${spec}"`);
}
