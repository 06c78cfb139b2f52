/**
 * How many cameras at 5 fps this machine sustains for ingest alone: 640x512 30 fps sky clips served as
 * looping file cameras at their native rate (-re), each through its own supervised ffmpeg, motion
 * detection, the camera's tracker and native-resolution crops of its tracks. A step passes when every camera keeps >= 90% of 5 fps.
 *   npm run bench:ingest [-- --seconds 12 --max 16]
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createCamera } from '../ingest/camera.js';
import { CameraSupervisor } from '../ingest/camera-supervisor.js';
import type { FrameJobInput, FrameSink } from '../ingest/frame-sink.js';
import { benchPipelines } from './support/pipelines.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '12' }, max: { type: 'string', default: '16' }, fps: { type: 'string', default: '5' } } });
const SECONDS = Number(values.seconds);
const FPS = Number(values.fps);
const VIDEOS = path.resolve('../shared/data/videos');
if (!existsSync(VIDEOS)) {
  console.error(`no clips at ${VIDEOS}: this benchmark needs the shared sky clips`);
  process.exit(1);
}
const clips = readdirSync(VIDEOS).flatMap((label) => readdirSync(path.join(VIDEOS, label)).filter((f) => f.endsWith('.mp4')).map((f) => path.join(VIDEOS, label, f))).sort();

/** Takes every job at once: the benchmark measures ingest, not the queue. */
class CountingSink implements FrameSink {
  jobs = 0;
  crops = 0;
  async submit(job: FrameJobInput): Promise<'queued'> {
    this.jobs++;
    this.crops += job.crops.length;
    return 'queued';
  }
  inFlight() {
    return 0;
  }
}

const TICK = 100; // USER_HZ on Linux
function childCpuSeconds(): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      out.set(Number(pid), (Number(fields[11]) + Number(fields[12])) / TICK);
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

async function step(n: number) {
  const sink = new CountingSink();
  const supervisors = Array.from({ length: n }, (_, i) => new CameraSupervisor({
    camera: { ...createCamera({ name: `bench${i}`, url: clips[i % clips.length], fps: FPS }, { allowFileUrls: true, defaultFps: FPS }) },
    pipeline: benchPipelines(sink),
    allowFileUrls: true,
    watchdogMs: 20_000,
    backoffMinMs: 500,
    backoffMaxMs: 5000,
  }));
  for (const s of supervisors) s.start();
  // Warm-up: probing and the first frames.
  const deadline = Date.now() + 30_000;
  while (supervisors.some((s) => s.status().state !== 'live') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 1000));
  const frames0 = supervisors.map((s) => s.status().framesDecoded);
  const children0 = childCpuSeconds();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const children1 = childCpuSeconds();
  const rates = supervisors.map((s, i) => (s.status().framesDecoded - frames0[i]) / wall);
  await Promise.all(supervisors.map((s) => s.stop()));
  let childSeconds = 0;
  for (const [pid, secs] of children1) childSeconds += secs - (children0.get(pid) ?? secs);
  const nodeSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    cameras: n,
    minFps: Math.min(...rates),
    meanFps: rates.reduce((a, b) => a + b, 0) / n,
    nodeCpuPerCamera: nodeSeconds / wall / n,
    ffmpegCpuPerCamera: childSeconds / wall / n,
    jobs: sink.jobs,
    crops: sink.crops,
  };
}

console.log(`ingest bench: ${clips.length} clips, ${FPS} fps per camera, ${SECONDS}s per step, cpu in cores`);
console.log('cameras  min fps  mean fps  node cpu/cam  ffmpeg cpu/cam  frame jobs  crops');
let sustained = 0;
for (const n of [1, 2, 4, 6, 8, 12, 16, 24, 32].filter((x) => x <= Number(values.max))) {
  const r = await step(n);
  console.log(`${String(r.cameras).padStart(7)}  ${r.minFps.toFixed(2).padStart(7)}  ${r.meanFps.toFixed(2).padStart(8)}  ${r.nodeCpuPerCamera.toFixed(3).padStart(12)}  ${r.ffmpegCpuPerCamera.toFixed(3).padStart(14)}  ${String(r.jobs).padStart(11)}  ${String(r.crops).padStart(5)}`);
  if (r.minFps < 0.9 * FPS) break;
  sustained = n;
}
console.log(`sustained: ${sustained} cameras at ${FPS} fps (every camera >= ${(0.9 * FPS).toFixed(1)} fps)`);
