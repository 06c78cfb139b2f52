/**
 * Capacity sweep (npm run bench:streaming): N cameras playing the real 640x512 30 fps drone clips at
 * their native rate (`-re`, so frames arrive at camera speed) sampled at 5 fps, through the tracked
 * pipeline as it runs in service (ffmpeg -> motion -> tracker -> native crops -> queue -> workers ->
 * scores back to the owner -> verdict -> alert with snapshot and clip), the SqueezeNet + head model,
 * alert threshold 0 so every track alerts (the heaviest case for evidence encoding). Steps of
 * BENCH_CAMERAS (default 4,8,12,16,20,24), in one process (`skywatch start`'s wiring) and as separate
 * api / ingest / worker processes (BENCH_MODE=one-process|processes|both, default both).
 * Per step: fps held (lowest camera), frames dropped (ingest and worker), crops classified a second
 * (the crop schedule decides how many), CPU per camera for Node, ffmpeg and the Redis server apart, p50/p99 capture-to-alert (alert written minus capture time of the frame that opened
 * or updated it), the most any camera's frames reached the pipeline late after their capture (its status's
 * lagMs, read every 2 s: late frames mean the machine did not keep up with decoding and motion, not with
 * inference), RSS of the Node processes, load average. A mode stops at the first step that misses
 * the targets (every camera >= 4.5 fps, no drops, p99 < 500 ms) and says why.
 *
 * The cameras are looping shared clips standing in for live cameras (`ingest.loopsAsLive`: they drop
 * and thin as live streams do, where a file is otherwise a recording that plays later instead).
 * BENCH_TIMELINE=1 prints a line a second from the first camera on (frames decoded and skipped, the
 * worst lag, crops scored).
 * The window is the steady state: it opens BENCH_SETTLE_S (default 15) after every camera is live.
 * Adding a dozen cameras is itself a burst (ffprobe and ffmpeg spawned from a large process, every
 * camera's first tracks at once) that leaves a backlog; how long it lasts is printed apart ("settling":
 * the most an alert event came late between the last camera's addition and the window, and the seconds
 * from the cameras going live to the last event that came 500 ms or more late).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runRoles } from '../app/run-roles.js';
import { loadConfig } from '../core/config.js';
import { freePort } from '../core/free-port.js';
import { silentLogger } from '../core/logger.js';
import { ModelRegistry } from '../core/model/registry.js';
import { LocalStore } from '../core/storage/local-store.js';
import { createRedis } from '../queue/redis-connection.js';
import { publishRealisticModel } from './support/realistic-model.js';
import { skywatchEnv } from './support/skywatch-env.js';

const CLIPS = path.resolve('../shared/data/videos/drone');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const COUNTS = (process.env.BENCH_CAMERAS ?? '4,8,12,16,20,24').split(',').map(Number);
const MODES = process.env.BENCH_MODE === 'processes' ? ['processes'] : process.env.BENCH_MODE === 'one-process' ? ['one-process'] : ['one-process', 'processes'];
const FPS = 5;
/** Cameras are added this many seconds apart in all (one clip's length: their loops spread over it). */
const STAGGER_S = Number(process.env.BENCH_STAGGER_S ?? 10);
const SETTLE_S = Number(process.env.BENCH_SETTLE_S ?? 15);
const TARGET = { fps: 0.9 * FPS, p99: 500 };
/** Clock ticks per second of /proc times (USER_HZ, 100 on Linux). */
const TICK = 100;

/** `children`: CPU of its children that have ended (cutime + cstime): the evidence encoder's short ffmpeg runs. */
interface ProcInfo { pid: number; ppid: number; comm: string; cpu: number; children: number; rssMb: number }

function procs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1];
      out.push({ pid: Number(d), ppid: Number(f[1]), comm, cpu: (Number(f[11]) + Number(f[12])) / TICK, children: (Number(f[13]) + Number(f[14])) / TICK, rssMb: Number(rss ?? 0) / 1024 });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/**
 * CPU seconds and RSS of this process's tree, Node and ffmpeg apart (pid -> cpu, to diff later). The
 * evidence clips' ffmpeg runs last a fraction of a second each, too short to be seen alive between
 * two readings: they are counted as ffmpeg through their parent's `children` time.
 */
function tree(): { cpu: Map<number, { cpu: number; children: number; ffmpeg: boolean }>; nodeRssMb: number } {
  const all = procs();
  const parent = new Map(all.map((p) => [p.pid, p.ppid]));
  const inTree = (pid: number) => {
    for (let p: number | undefined = pid, hops = 0; p && hops < 20; p = parent.get(p), hops++) if (p === process.pid) return true;
    return false;
  };
  const cpu = new Map<number, { cpu: number; children: number; ffmpeg: boolean }>();
  let nodeRssMb = 0;
  for (const p of all) {
    if (!inTree(p.pid)) continue;
    const ffmpeg = p.comm.startsWith('ffmpeg') || p.comm.startsWith('ffprobe');
    cpu.set(p.pid, { cpu: p.cpu, children: p.children, ffmpeg });
    if (!ffmpeg && p.comm !== 'sh') nodeRssMb += p.rssMb;
  }
  return { cpu, nodeRssMb };
}

/** CPU seconds of the Redis servers on the machine (the pipeline's Redis is one of them; nothing else talks to them during a run). */
function redisCpu(): number {
  return procs().filter((p) => p.comm.startsWith('redis-server')).reduce((s, p) => s + p.cpu, 0);
}

function cpuDelta(a: ReturnType<typeof tree>, b: ReturnType<typeof tree>): { node: number; ffmpeg: number } {
  let node = 0;
  let ffmpeg = 0;
  for (const [pid, now] of b.cpu) {
    const before = a.cpu.get(pid);
    const d = now.cpu - (before?.cpu ?? 0);
    if (now.ffmpeg) ffmpeg += d;
    else node += d;
    if (!now.ffmpeg) ffmpeg += now.children - (before?.children ?? 0);
  }
  return { node, ffmpeg };
}

/** Prints, every second: seconds since it started, cameras live, frames decoded and skipped as behind, the worst lag, crops scored. */
function startTimeline(url: string, summary: () => Promise<{ crops: number }>): { stop: () => void } {
  const t0 = Date.now();
  let last: { decoded: number; behind: number; crops: number } | null = null;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      const cams = ((await (await fetch(`${url}/v1/cameras`)).json()) as { cameras: Array<{ status: { state: string; framesDecoded: number; lagMs?: number | null; drops?: { behind?: number } } | null }> }).cameras;
      const now = { decoded: 0, behind: 0, crops: (await summary()).crops };
      let lag = 0;
      let live = 0;
      for (const c of cams) {
        now.decoded += c.status?.framesDecoded ?? 0;
        now.behind += c.status?.drops?.behind ?? 0;
        lag = Math.max(lag, c.status?.lagMs ?? 0);
        if (c.status?.state === 'live') live++;
      }
      if (last) console.log(`  t=${((Date.now() - t0) / 1000).toFixed(0)}s live ${live}/${cams.length} decoded ${now.decoded - last.decoded}/s skipped ${now.behind - last.behind}/s lag max ${lag} ms crops ${now.crops - last.crops}/s`);
      last = now;
    })().catch(() => {}).finally(() => {
      busy = false;
    });
  }, 1000);
  return { stop: () => clearInterval(timer) };
}

const q = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] : NaN);

type CameraView = { id: string; status: { framesDecoded: number; framesDropped: number; state: string; lagMs?: number | null } | null };

const dir = mkdtempSync(path.join(os.tmpdir(), 'sw-stream-bench-'));
const { registryDir } = await publishRealisticModel(dir);
const clips = readdirSync(CLIPS).filter((f) => f.endsWith('.mp4')).sort();
console.log(`${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}); Node ${process.version}; SqueezeNet + head; ${SECONDS} s per step at ${FPS} fps; targets: every camera >= ${TARGET.fps} fps, no drops, p99 capture-to-alert < ${TARGET.p99} ms`);

for (const mode of MODES) {
  console.log(`\n${mode}`);
  console.log('cameras | fps held (min/mean) | dropped (ingest+worker) | crops/s | CPU/camera node | CPU/camera ffmpeg | CPU/camera redis | capture-to-alert p50/p99 ms (events) | frame lag max ms | RSS MB | load 1m | settling: worst ms / late until s');
  for (const n of COUNTS) {
    const prefix = `bench-stream-${n}-${Date.now()}`;
    const overrides = { stateDir: path.join(dir, `${mode}-${n}`), registry: registryDir, redis: { prefix }, api: { port: 0 }, ingest: { allowFileUrls: true, loopsAsLive: true }, alerts: { threshold: 0 }, logLevel: 'warn' as const };
    let url: string;
    let stopAll: () => Promise<void>;
    let summary: () => Promise<{ workerDropped: number; crops: number }>;
    if (mode === 'processes') {
      const [apiPort, ingestPort, wPort] = [await freePort(), await freePort(), await freePort()];
      const env = { ...process.env, SKYWATCH_STATE_DIR: overrides.stateDir, SKYWATCH_REDIS_PREFIX: prefix, SKYWATCH_ALLOW_FILE_URLS: 'true', SKYWATCH_LOOPS_AS_LIVE: 'true', SKYWATCH_ALERT_THRESHOLD: '0', SKYWATCH_LOG_LEVEL: 'warn' };
      const children: ChildProcess[] = [['api', apiPort], ['ingest', ingestPort], ['worker', wPort]].map(([role, port]) => spawn('node', ['bin/skywatch.mjs', String(role), '--registry', registryDir, '--port', String(port)], { env, stdio: ['ignore', 'ignore', 'inherit'] }));
      url = `http://127.0.0.1:${apiPort}`;
      for (let i = 0; i < 600; i++) {
        const ok = await Promise.all([apiPort, wPort].map((p) => fetch(`http://127.0.0.1:${p}/ready`).then((r) => r.ok, () => false)));
        if (ok.every(Boolean)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      stopAll = async () => {
        for (const p of children) p.kill('SIGTERM');
        await Promise.all(children.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
      };
      summary = async () => {
        const metrics = await (await fetch(`http://127.0.0.1:${wPort}/metrics`)).text();
        const dropped = [...metrics.matchAll(/skywatch_worker_frames\{what="dropped",reason="[^"]*"\} (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
        const crops = Number(/skywatch_worker_frames\{what="crops",reason=""\} (\d+)/.exec(metrics)?.[1] ?? 0);
        return { workerDropped: dropped, crops };
      };
    } else {
      const running = await runRoles({ config: loadConfig({ env: skywatchEnv(), overrides }), logger: silentLogger, registry: new ModelRegistry(new LocalStore(registryDir)), roles: { api: true, ingest: true, worker: true } });
      url = `http://127.0.0.1:${(running.server!.app.server.address() as { port: number }).port}`;
      stopAll = () => running.stop();
      summary = async () => ({ workerDropped: Object.values(running.worker!.counters.dropped).reduce((a, b) => a + b, 0), crops: running.worker!.counters.crops });
      for (let i = 0; i < 600 && !running.server!.holder.current; i++) await new Promise((r) => setTimeout(r, 100));
    }
    // BENCH_TIMELINE=1: a line a second from the first camera on (decoded and skipped frames, the worst
    // lag, crops scored), to see how the start's backlog forms and clears.
    const timeline = process.env.BENCH_TIMELINE === '1' ? startTimeline(url, summary) : null;
    for (let i = 0; i < n; i++) {
      // Independent cameras: the clips are all about 10 s long and loop, and cameras added at once
      // would reset their scenes in the same second every 10 s, every track on every camera ending and
      // starting again together (BENCH_STAGGER_S=0 keeps that synchronised case).
      if (i > 0 && STAGGER_S > 0) await new Promise((r) => setTimeout(r, (STAGGER_S * 1000) / n));
      await fetch(`${url}/v1/cameras`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `cam${i}`, url: path.join(CLIPS, clips[i % clips.length]), fps: FPS }) });
    }
    const addedId = `${Date.now()}-0`;
    const cameras = async () => ((await (await fetch(`${url}/v1/cameras`)).json()) as { cameras: CameraView[] }).cameras;
    // Cameras connect (ffprobe, the first frames) and the first tracks form.
    for (let i = 0; i < 300 && (await cameras()).some((c) => c.status?.state !== 'live'); i++) await new Promise((r) => setTimeout(r, 200));
    const liveAt = Date.now();
    await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
    const cams0 = await cameras();
    const w0 = await summary();
    const t0tree = tree();
    const redis0 = redisCpu();
    const redis = createRedis('redis://127.0.0.1:6379');
    const startId = `${Date.now()}-0`;
    const t0 = Date.now();
    let maxLag = 0;
    while (Date.now() - t0 < SECONDS * 1000) {
      await new Promise((r) => setTimeout(r, Math.min(2_000, SECONDS * 1000 - (Date.now() - t0))));
      for (const c of await cameras()) maxLag = Math.max(maxLag, c.status?.lagMs ?? 0);
    }
    const wall = (Date.now() - t0) / 1000;
    timeline?.stop();
    const t1tree = tree();
    const redisCpuS = redisCpu() - redis0;
    const load = os.loadavg()[0];
    const cams = await cameras();
    const w1 = await summary();
    const cpu = cpuDelta(t0tree, t1tree);
    const rates = cams.map((c) => ((c.status?.framesDecoded ?? 0) - (cams0.find((x) => x.id === c.id)?.status?.framesDecoded ?? 0)) / wall);
    const ingestDropped = cams.reduce((s, c) => s + (c.status?.framesDropped ?? 0), 0) - cams0.reduce((s, c) => s + (c.status?.framesDropped ?? 0), 0);
    const workerDropped = w1.workerDropped - w0.workerDropped;
    const rows = (await redis.xrange(`${prefix}:alerts`, startId, '+')) as Array<[string, string[]]>;
    const lateness = (list: Array<[string, string[]]>) => list
      .map(([id, f]) => ({ at: Number(id.split('-')[0]), a: JSON.parse(f[1]) as { lastAt: number; status: string } }))
      .filter((r) => r.a.status !== 'closed')
      .map((r) => ({ at: r.at, ms: r.at - r.a.lastAt }));
    const latencies = lateness(rows).map((r) => r.ms);
    const settling = lateness((await redis.xrange(`${prefix}:alerts`, addedId, `(${startId}`)) as Array<[string, string[]]>);
    const settlingMax = settling.reduce((m, r) => Math.max(m, r.ms), 0);
    const lateUntil = settling.filter((r) => r.ms >= TARGET.p99).reduce((m, r) => Math.max(m, (r.at - liveAt) / 1000), 0);
    // BENCH_EVENTS=file: every alert event of the window (written at, capture time, camera, status), to see when the slow ones came.
    if (process.env.BENCH_EVENTS) writeFileSync(`${process.env.BENCH_EVENTS}.${mode}-${n}.jsonl`, rows.map(([id, f]) => JSON.stringify({ at: Number(id.split('-')[0]), ...(JSON.parse(f[1]) as object) })).join('\n'));
    const minFps = Math.min(...rates);
    const meanFps = rates.reduce((a, b) => a + b, 0) / rates.length;
    const p99 = q(latencies, 0.99);
    console.log(`${String(n).padStart(7)} | ${minFps.toFixed(2)} / ${meanFps.toFixed(2)} | ${ingestDropped} + ${workerDropped} | ${((w1.crops - w0.crops) / wall).toFixed(1)} | ${(cpu.node / wall / n).toFixed(3)} | ${(cpu.ffmpeg / wall / n).toFixed(3)} | ${(redisCpuS / wall / n).toFixed(3)} | ${q(latencies, 0.5)} / ${p99} (${latencies.length}) | ${maxLag} | ${Math.round(t1tree.nodeRssMb)} | ${load.toFixed(2)} | ${settlingMax} / ${lateUntil.toFixed(1)}`);
    await stopAll();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    const why = [
      minFps < TARGET.fps ? `a camera held ${minFps.toFixed(2)} fps (< ${TARGET.fps})` : '',
      ingestDropped + workerDropped > 0 ? `${ingestDropped + workerDropped} frames dropped` : '',
      !(p99 < TARGET.p99) ? `p99 capture-to-alert ${p99} ms (target < ${TARGET.p99})${maxLag >= TARGET.p99 ? `, frames reached the pipeline up to ${maxLag} ms late (decoding and motion did not keep up)` : ''}` : '',
    ].filter(Boolean);
    if (why.length) {
      console.log(`${mode}: stops at ${n} cameras: ${why.join('; ')}`);
      break;
    }
  }
}
process.exit(0);
