/**
 * Soak test of the streaming pipeline (npm run bench:soak; SOAK_MINUTES, default 30): every role in one
 * process, SOAK_CAMERAS cameras (default 3) looping real drone clips at 5 fps on loopback. Samples every
 * 30 s: RSS, heap, open file descriptors, ffmpeg children, frames decoded / dropped (by reason), alerts.
 * At the end: growth of RSS and descriptors between the first and last third, ffmpeg children left
 * after stop (must be 0). Prints one JSON line per sample and a summary.
 */
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

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
const CAMERAS = Number(process.env.SOAK_CAMERAS ?? 3);
const SAMPLE_MS = Number(process.env.SOAK_SAMPLE_MS ?? 30_000);
const CLIPS = path.resolve('../shared/data/videos/drone');

const ffmpegChildren = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.includes('(ffmpeg)') && Number(stat.split(') ')[1].split(' ')[1]) === process.pid;
  } catch {
    return false;
  }
}).length;
const fds = () => readdirSync('/proc/self/fd').length;

const dir = mkdtempSync(path.join(os.tmpdir(), 'sw-soak-'));
const { registryDir } = await publishRealisticModel(dir);
const prefix = `soak-${Date.now()}`;
const config = loadConfig({ env: {}, overrides: { stateDir: path.join(dir, 'state'), registry: registryDir, redis: { prefix }, api: { port: 0 }, ingest: { allowFileUrls: true } } });
const running = await runRoles({ config, logger: silentLogger, registry: new ModelRegistry(new LocalStore(registryDir)), roles: { api: true, ingest: true, worker: true } });
const url = `http://127.0.0.1:${(running.server!.app.server.address() as { port: number }).port}`;
const clips = readdirSync(CLIPS).filter((f) => f.endsWith('.mp4')).sort();
for (let i = 0; i < CAMERAS; i++) await fetch(`${url}/v1/cameras`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `soak${i}`, url: path.join(CLIPS, clips[i % clips.length]), fps: 5 }) });

const samples: Array<{ t: number; rssMb: number; heapMb: number; fds: number; ffmpeg: number; decoded: number; dropped: Record<string, number>; alerts: number }> = [];
const end = Date.now() + MINUTES * 60_000;
const redis = createRedis('redis://127.0.0.1:6379');
while (Date.now() < end) {
  await new Promise((r) => setTimeout(r, Math.min(SAMPLE_MS, Math.max(0, end - Date.now()))));
  const cams = ((await (await fetch(`${url}/v1/cameras`)).json()) as { cameras: Array<{ status?: { framesDecoded: number; drops: Record<string, number> } }> }).cameras;
  const dropped: Record<string, number> = {};
  for (const c of cams) for (const [k, v] of Object.entries(c.status?.drops ?? {})) dropped[k] = (dropped[k] ?? 0) + v;
  const m = process.memoryUsage();
  const sample = { t: Math.round((Date.now() - (end - MINUTES * 60_000)) / 1000), rssMb: Math.round(m.rss / 1048576), heapMb: Math.round(m.heapUsed / 1048576), fds: fds(), ffmpeg: ffmpegChildren(), decoded: cams.reduce((s, c) => s + (c.status?.framesDecoded ?? 0), 0), dropped, alerts: await redis.xlen(`${prefix}:alerts`) };
  samples.push(sample);
  console.log(JSON.stringify(sample));
}
await running.stop();
await new Promise((r) => setTimeout(r, 2_000));
const third = Math.max(1, Math.floor(samples.length / 3));
const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const early = samples.slice(0, third);
const late = samples.slice(-third);
const rssGrowth = (avg(late.map((s) => s.rssMb)) - avg(early.map((s) => s.rssMb))) / avg(early.map((s) => s.rssMb));
console.log(`soak ${MINUTES} min, ${CAMERAS} cameras: RSS ${avg(early.map((s) => s.rssMb)).toFixed(0)} -> ${avg(late.map((s) => s.rssMb)).toFixed(0)} MB (${(rssGrowth * 100).toFixed(1)}%), fds ${avg(early.map((s) => s.fds)).toFixed(0)} -> ${avg(late.map((s) => s.fds)).toFixed(0)}, ffmpeg children while running ${Math.max(...samples.map((s) => s.ffmpeg))}, after stop ${ffmpegChildren()}, frames decoded ${samples.at(-1)?.decoded}, dropped ${JSON.stringify(samples.at(-1)?.dropped)}, alert events ${samples.at(-1)?.alerts}`);
const keys = await redis.keys(`${prefix}*`);
if (keys.length) await redis.del(...keys);
redis.disconnect();
process.exit(0);
