/**
 * Detection quality through the whole pipeline (npm run bench:quality): a model trained on crops of
 * some clips (every third clip of each label), then the OTHER clips played as cameras (file, at camera
 * speed, 4 at a time, one pass of about 10 s each) through ingest, motion gating, the queue, the worker
 * and the alert rules with their defaults. Reported: the share of drone clips that raised a drone alert
 * and the share of bird, airplane and helicopter clips that raised a false drone alert.
 */
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runRoles } from '../app/run-roles.js';
import { loadConfig } from '../core/config.js';
import { silentLogger } from '../core/logger.js';
import { ModelRegistry } from '../core/model/registry.js';
import { LocalStore } from '../core/storage/local-store.js';
import { createRedis } from '../queue/redis-connection.js';
import { buildCropsFromVideos } from '../trainer/data/from-videos.js';
import { runTraining } from '../trainer/train.js';

const VIDEOS = path.resolve('../shared/data/videos');
const BACKBONE = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');
const PER_LABEL = Number(process.env.BENCH_CLIPS_PER_LABEL ?? 6);
const root = mkdtempSync(path.join(os.tmpdir(), 'sw-quality-'));
const labels = readdirSync(VIDEOS).filter((l) => !l.startsWith('.')).sort();
const train: Record<string, string[]> = {};
const test: Array<{ label: string; file: string }> = [];
for (const label of labels) {
  const files = readdirSync(path.join(VIDEOS, label)).filter((f) => f.endsWith('.mp4')).sort();
  train[label] = files.filter((_, i) => i % 3 === 0);
  test.push(...files.filter((_, i) => i % 3 !== 0).slice(0, PER_LABEL).map((file) => ({ label, file })));
  mkdirSync(path.join(root, 'clips', label), { recursive: true });
  for (const f of train[label]) symlinkSync(path.join(VIDEOS, label, f), path.join(root, 'clips', label, f));
}
const t0 = Date.now();
await buildCropsFromVideos(path.join(root, 'clips'), path.join(root, 'crops'), { fps: 3, maxCropsPerClip: 24, seed: 7 });
const registryDir = path.join(root, 'registry');
const trained = await runTraining({ data: path.join(root, 'crops'), registry: registryDir, stateDir: path.join(root, 'state'), mode: 'transfer', backbone: BACKBONE, publish: true, seed: 1, logger: silentLogger });
console.log(`model ${trained.version} trained on crops of ${Object.values(train).flat().length} clips in ${((Date.now() - t0) / 1000).toFixed(0)} s; crop test accuracy ${trained.metrics.accuracy.toFixed(3)}`);

const prefix = `bench-quality-${Date.now()}`;
const config = loadConfig({ env: {}, overrides: { stateDir: path.join(root, 'state'), registry: registryDir, redis: { prefix }, api: { port: 0 }, ingest: { allowFileUrls: true } } });
const running = await runRoles({ config, logger: silentLogger, registry: new ModelRegistry(new LocalStore(registryDir)), roles: { api: true, ingest: true, worker: true } });
const url = `http://127.0.0.1:${(running.server!.app.server.address() as { port: number }).port}`;
const redis = createRedis('redis://127.0.0.1:6379');
const raised = new Map<string, Set<string>>();
for (let i = 0; i < test.length; i += 4) {
  const group = test.slice(i, i + 4);
  const ids: string[] = [];
  for (const clip of group) {
    const res = await fetch(`${url}/v1/cameras`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `${clip.label}/${clip.file}`, url: path.join(VIDEOS, clip.label, clip.file), fps: 5 }) });
    ids.push(((await res.json()) as { id: string }).id);
  }
  await new Promise((r) => setTimeout(r, 13_000));
  for (const id of ids) await fetch(`${url}/v1/cameras/${id}`, { method: 'DELETE' });
  const rows = (await redis.xrange(`${prefix}:alerts`, '-', '+')) as Array<[string, string[]]>;
  for (const [, f] of rows) {
    const a = JSON.parse(f[1]) as { cameraId: string; label: string };
    const at = ids.indexOf(a.cameraId);
    if (at < 0) continue;
    const key = `${group[at].label}/${group[at].file}`;
    raised.set(key, (raised.get(key) ?? new Set()).add(a.label));
  }
  console.log(`  ${Math.min(i + 4, test.length)}/${test.length} clips played`);
}
const drone = test.filter((c) => c.label === 'drone');
const others = test.filter((c) => c.label !== 'drone');
const hit = drone.filter((c) => raised.get(`${c.label}/${c.file}`)?.has('drone')).length;
const falseHits = others.filter((c) => raised.get(`${c.label}/${c.file}`)?.has('drone'));
console.log(`drone clips raising a drone alert: ${hit}/${drone.length}; other clips raising a false drone alert: ${falseHits.length}/${others.length}${falseHits.length ? ` (${falseHits.map((c) => `${c.label}/${c.file}`).join(', ')})` : ''}`);
for (const label of labels.filter((l) => l !== 'drone')) {
  const of = others.filter((c) => c.label === label);
  console.log(`  ${label}: ${of.filter((c) => raised.get(`${c.label}/${c.file}`)?.has('drone')).length}/${of.length} false drone alerts`);
}
await running.stop();
const keys = await redis.keys(`${prefix}*`);
if (keys.length) await redis.del(...keys);
redis.disconnect();
process.exit(0);
