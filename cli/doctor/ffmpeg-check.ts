import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CheckResult } from './check-result.js';

const run = promisify(execFile);

/** ffmpeg decodes every camera; without it ingest and `data from-videos` cannot run. */
export async function checkFfmpeg(): Promise<CheckResult> {
  try {
    const { stdout } = await run('ffmpeg', ['-hide_banner', '-version'], { timeout: 10_000 });
    return { name: 'ffmpeg', level: 'ok', detail: stdout.split('\n')[0] };
  } catch {
    return { name: 'ffmpeg', level: 'fail', detail: 'ffmpeg is not on PATH', fix: 'apt-get install -y ffmpeg (or bash scripts/setup.sh)' };
  }
}
