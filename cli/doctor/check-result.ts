import type { Config } from '../../core/config.js';

export type CheckLevel = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  level: CheckLevel;
  detail: string;
  /** What to do about it, for warn and fail. */
  fix?: string;
}

/** One doctor check: never throws, always says what it found and, when not ok, what to do. */
export type Check = (config: Config) => Promise<CheckResult>;
