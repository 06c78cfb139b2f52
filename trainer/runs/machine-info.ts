import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { RunRecord } from './run-record.js';

/** The machine a run ran on: enough to explain a slow run or a numeric difference between machines. */
export function machineInfo(): RunRecord['machine'] {
  return {
    hostname: os.hostname(),
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

let cached: RunRecord['code'] | undefined;

/**
 * The code that trained: the package version and the git commit. In a container without .git the
 * build passes SKYWATCH_COMMIT; when neither exists the commit is null rather than a guess.
 */
export function codeVersion(): RunRecord['code'] {
  if (cached) return cached;
  let version = '0.0.0';
  try {
    version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {}
  let commit: string | null = process.env.SKYWATCH_COMMIT ?? null;
  let dirty: boolean | null = null;
  if (!commit) {
    try {
      const cwd = new URL('../../', import.meta.url).pathname;
      commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).toString().trim() || null;
      dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).toString().trim().length > 0;
    } catch {
      commit = null;
    }
  }
  cached = { version, commit, dirty };
  return cached;
}
