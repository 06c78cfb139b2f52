import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Config } from '../../core/config.js';
import { probeUrl, redisAnswers } from '../../core/redis-launcher.js';
import type { CheckResult } from './check-result.js';

const run = promisify(execFile);

async function redisServerInstalled(): Promise<boolean> {
  try {
    await run('redis-server', ['--version'], { timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

/** Redis answers at the configured URL, or (one-machine mode) a private one can be started. */
export async function checkRedis(config: Config): Promise<CheckResult> {
  const { url, autoStart } = config.redis;
  if (await redisAnswers(probeUrl(url))) return { name: 'redis', level: 'ok', detail: `answers at ${url}` };
  const installed = await redisServerInstalled();
  const cluster = url.startsWith('redis+cluster://');
  if (autoStart && installed && !cluster) {
    return { name: 'redis', level: 'warn', detail: `nothing answers at ${url}; skywatch start will run a private redis-server (no persistence)`, fix: 'for production run a Redis with --appendonly yes and set SKYWATCH_REDIS_URL' };
  }
  const fix = cluster ? 'start the cluster or fix the seed nodes in SKYWATCH_REDIS_URL'
    : installed ? 'start redis-server, set SKYWATCH_REDIS_URL to one that runs, or allow SKYWATCH_REDIS_AUTOSTART=true'
    : 'apt-get install -y redis-server, or set SKYWATCH_REDIS_URL to a running Redis';
  return { name: 'redis', level: 'fail', detail: `nothing answers at ${url}`, fix };
}
