/**
 * Streaming benchmark (npm run bench:streaming): every role in one process (`runRoles`, as `skywatch
 * start`), or with BENCH_MODE=processes as separate `skywatch api|ingest|worker` processes, N cameras looping the real 640x512 30 fps drone clips at 5 fps (`-re`, so they arrive at
 * camera speed), the SqueezeNet + head model. For each N: frames analysed per camera per second, CPU
 * per camera (this process plus its ffmpeg children, from /proc), frames dropped, and capture-to-alert
 * latency (alert written minus the capture time of the frame that opened or updated it).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runRoles } from '../app/run-roles.js';
import { loadConfig } from '../core/config.js';
import { silentLogger } from '../core/logger.js';
import { ModelRegistry } from '../core/model/registry.js';
import { LocalStore } from '../core/storage/local-store.js';
import { createRedis } from '../queue/redis-connection.js';
import { publishRealisticModel } from './support/realistic-model.js';

const CLIPS = path.resolve('../shared/data/videos/drone');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const COUNTS = (process.env.BENCH_CAMERAS ?? '2,4,8').split(',').map(Number);
const MODE = process.env.BENCH_MODE === 'processes' ? 'processes' : 'one-process';
/** Clock ticks per second of /proc times (USER_HZ, 100 on Linux). */
const TICK = 100;

function cpuSeconds(pid: number): number {
  // utime + stime of the process and its waited-for children, in clock ticks.
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

/** CPU seconds of a process and all its descendants (ffmpeg children of ingest, etc.). */
function treeCpu(root: number): number {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      parent.set(Number(d), Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ')[1]));
    } catch {}
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p && hops < 20; p = parent.get(p), hops++) if (p === root) return true;
    return false;
  };
  let total = 0;
  for (const pid of parent.keys()) {
    if (!inTree(pid)) continue;
    try {
      total += cpuSeconds(pid);
    } catch {}
  }
  return total;
}

const q = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] : NaN);

const dir = mkdtempSync(path.join(os.tmpdir(), 'sw-stream-bench-'));
const { registryDir } = await publishRealisticModel(dir);
const clips = readdirSync(CLIPS).filter((f) => f.endsWith('.mp4')).sort();
console.log(`${MODE}: ${os.cpus().length} cores; model SqueezeNet + head; ${SECONDS} s per run; clips from ${CLIPS}`);

for (const n of COUNTS) {
  const prefix = `bench-stream-${Date.now()}`;
  const config = loadConfig({ env: {}, overrides: { stateDir: path.join(dir, `s${n}`), registry: registryDir, redis: { prefix }, api: { port: 0 }, ingest: { allowFileUrls: true }, alerts: { threshold: 0.0, k: 1, n: 1, cooldownMs: 0 } } });
  let url: string;
  let stopAll: () => Promise<void>;
  if (MODE === 'processes') {
    // The same roles as separate `skywatch` processes on the same Redis, as a scaled-out deployment runs them.
    const port = 18500 + n;
    const env = { ...process.env, SKYWATCH_STATE_DIR: path.join(dir, `p${n}`), SKYWATCH_REDIS_PREFIX: prefix, SKYWATCH_ALLOW_FILE_URLS: 'true', SKYWATCH_ALERT_THRESHOLD: '0', SKYWATCH_ALERT_K: '1', SKYWATCH_ALERT_N: '1', SKYWATCH_ALERT_COOLDOWN_MS: '0', SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_API_PORT: String(port) };
    const procs = ['api', 'ingest', 'worker'].map((role, i) => spawn('node', ['bin/skywatch.mjs', role, '--registry', registryDir, '--port', String(port + 100 * i)], { env, stdio: ['ignore', 'ignore', 'inherit'] }));
    url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200; i++) {
      if (await fetch(`${url}/ready`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    stopAll = async () => {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
    };
  } else {
    const running = await runRoles({ config, logger: silentLogger, registry: new ModelRegistry(new LocalStore(registryDir)), roles: { api: true, ingest: true, worker: true } });
    url = `http://127.0.0.1:${(running.server!.app.server.address() as { port: number }).port}`;
    stopAll = () => running.stop();
  }
  for (let i = 0; i < n; i++) {
    await fetch(`${url}/v1/cameras`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `cam${i}`, url: path.join(CLIPS, clips[i % clips.length]), fps: 5 }) });
  }
  await new Promise((r) => setTimeout(r, 6_000)); // cameras connect, models warm up
  const cams0 = ((await (await fetch(`${url}/v1/cameras`)).json()) as { cameras: Array<{ status: { framesDecoded: number; framesDropped: number } }> }).cameras;
  const decoded0 = cams0.reduce((s, c) => s + (c.status?.framesDecoded ?? 0), 0);
  const dropped0 = cams0.reduce((s, c) => s + (c.status?.framesDropped ?? 0), 0);
  const cpu0 = treeCpu(process.pid);
  const redis = createRedis('redis://127.0.0.1:6379');
  const startId = `${Date.now()}-0`;
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const wall = (Date.now() - t0) / 1000;
  const cpu = treeCpu(process.pid) - cpu0;
  const cams = ((await (await fetch(`${url}/v1/cameras`)).json()) as { cameras: Array<{ status: { framesDecoded: number; framesDropped: number } }> }).cameras;
  const decoded = cams.reduce((s, c) => s + (c.status?.framesDecoded ?? 0), 0) - decoded0;
  const dropped = cams.reduce((s, c) => s + (c.status?.framesDropped ?? 0), 0) - dropped0;
  const rows = (await redis.xrange(`${prefix}:alerts`, startId, '+')) as Array<[string, string[]]>;
  const latencies = rows.map(([id, f]) => Number(id.split('-')[0]) - (JSON.parse(f[1]) as { lastAt: number }).lastAt).filter((x) => x >= 0);
  const summary = (await (await fetch(`${url}/v1/metrics/summary`)).json()) as { pipeline: Record<string, number> };
  console.log(`${n} cameras: ${(decoded / wall / n).toFixed(2)} fps decoded per camera, ${dropped} dropped, CPU ${(cpu / wall).toFixed(2)} cores (${(cpu / wall / n).toFixed(3)} per camera), capture-to-alert p50 ${q(latencies, 0.5)} ms p99 ${q(latencies, 0.99)} ms over ${latencies.length} alert events; pipeline ${JSON.stringify(summary.pipeline)}`);
  await stopAll();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}
process.exit(0);
