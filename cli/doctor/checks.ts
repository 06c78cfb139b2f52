import type { Config } from '../../core/config.js';
import { checkBackbone } from './backbone-check.js';
import type { Check, CheckResult } from './check-result.js';
import { checkData } from './data-check.js';
import { checkFfmpeg } from './ffmpeg-check.js';
import { checkNode } from './node-check.js';
import { checkPort } from './port-check.js';
import { checkRedis } from './redis-check.js';
import { checkRegistry } from './registry-check.js';
import { checkTfjs } from './tfjs-check.js';
import { checkTokens } from './tokens-check.js';

export type { Check, CheckLevel, CheckResult } from './check-result.js';

/** Every check `skywatch doctor` runs, in the order it prints them. */
export const CHECKS: Check[] = [() => checkNode(), checkFfmpeg, checkRedis, checkRegistry, checkBackbone, checkData, checkTokens, checkPort, checkTfjs];

export async function runChecks(config: Config, checks: Check[] = CHECKS): Promise<CheckResult[]> {
  return Promise.all(checks.map((c) => c(config)));
}
