import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { tokensConfigured, type Config } from '../config.js';
import { sha256File } from '../hash.js';
import { ModelRegistry } from '../model/registry.js';
import { redisAnswers } from '../redis-launcher.js';
import { openStore } from '../storage/open-store.js';

const run = promisify(execFile);

export type CheckLevel = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  level: CheckLevel;
  detail: string;
  /** What to do about it, for warn and fail. */
  fix?: string;
}

type Check = (config: Config) => Promise<CheckResult>;

const ffmpeg: Check = async () => {
  try {
    const { stdout } = await run('ffmpeg', ['-hide_banner', '-version']);
    return { name: 'ffmpeg', level: 'ok', detail: stdout.split('\n')[0] };
  } catch {
    return { name: 'ffmpeg', level: 'fail', detail: 'ffmpeg is not on PATH', fix: 'apt-get install -y ffmpeg (or bash scripts/setup.sh)' };
  }
};

const redis: Check = async (config) => {
  if (await redisAnswers(config.redis.url)) return { name: 'redis', level: 'ok', detail: `answers at ${config.redis.url}` };
  let installed = false;
  try {
    await run('redis-server', ['--version']);
    installed = true;
  } catch {}
  if (config.redis.autoStart && installed) return { name: 'redis', level: 'warn', detail: `nothing at ${config.redis.url}; skywatch start will run a private redis-server`, fix: 'run a Redis (with AOF for alert durability) and set SKYWATCH_REDIS_URL for production' };
  return { name: 'redis', level: 'fail', detail: `nothing answers at ${config.redis.url}`, fix: installed ? 'start redis-server or set SKYWATCH_REDIS_AUTOSTART=true' : 'apt-get install -y redis-server, or set SKYWATCH_REDIS_URL' };
};

const registry: Check = async (config) => {
  try {
    const reg = new ModelRegistry(await openStore(config.registry, { gcsApiEndpoint: config.gcs.apiEndpoint, gcsProjectId: config.gcs.projectId }));
    const latest = await reg.latest();
    if (!latest) return { name: 'registry', level: 'warn', detail: `${config.registry} has no model yet`, fix: 'skywatch train --data DIR --publish (skywatch start trains one on the shipped data)' };
    const { modelPath, manifest } = await reg.fetch(latest.version, path.join(config.stateDir, 'cache', 'models'));
    const ok = (await sha256File(modelPath)) === manifest.sha256;
    return ok
      ? { name: 'registry', level: 'ok', detail: `latest ${latest.version} (${manifest.labels.join('/')}, accuracy ${manifest.metrics?.accuracy?.toFixed(4) ?? 'n/a'}), checksum ok` }
      : { name: 'registry', level: 'fail', detail: `model ${latest.version} does not match its checksum`, fix: 'skywatch model rollback, or publish again' };
  } catch (err) {
    return { name: 'registry', level: 'fail', detail: `${config.registry}: ${(err as Error).message}`, fix: 'check SKYWATCH_REGISTRY (a folder or gs://bucket/prefix) and credentials' };
  }
};

const backbone: Check = async (config) =>
  existsSync(config.trainer.backbone)
    ? { name: 'backbone', level: 'ok', detail: config.trainer.backbone }
    : { name: 'backbone', level: 'warn', detail: `${config.trainer.backbone} not found: transfer training needs it`, fix: 'set SKYWATCH_BACKBONE to an ImageNet ONNX classifier' };

const data: Check = async (config) =>
  config.data.startsWith('gs://') || existsSync(config.data)
    ? { name: 'data', level: 'ok', detail: config.data }
    : { name: 'data', level: 'warn', detail: `${config.data} not found`, fix: 'set SKYWATCH_DATA to a folder with one subfolder per label' };

const tokens: Check = async (config) => {
  if (!tokensConfigured(config)) return { name: 'tokens', level: 'warn', detail: 'no API tokens: the API binds 127.0.0.1 only', fix: 'set SKYWATCH_VIEWER_TOKENS and SKYWATCH_ADMIN_TOKENS to serve other machines' };
  const short = [...config.api.viewerTokens, ...config.api.adminTokens].filter((t) => t.length < 16);
  if (short.length) return { name: 'tokens', level: 'fail', detail: `${short.length} token(s) shorter than 16 characters`, fix: 'use long random tokens (openssl rand -hex 24)' };
  return { name: 'tokens', level: 'ok', detail: `${config.api.viewerTokens.length} viewer, ${config.api.adminTokens.length} admin` };
};

const port: Check = async (config) =>
  new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve({ name: 'port', level: 'fail', detail: `port ${config.api.port}: ${err.code}`, fix: 'stop what uses it or set SKYWATCH_API_PORT' }));
    srv.listen(config.api.port, '127.0.0.1', () => srv.close(() => resolve({ name: 'port', level: 'ok', detail: `${config.api.port} is free` })));
  });

const node: Check = async () => {
  const [major, minor] = process.versions.node.split('.').map(Number);
  return major > 20 || (major === 20 && minor >= 19) ? { name: 'node', level: 'ok', detail: process.version } : { name: 'node', level: 'fail', detail: process.version, fix: 'Node 20.19 or newer' };
};

const tfjs: Check = async () => {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      return { name: 'tfjs', level: 'ok', detail: `${pkg} (native training)` };
    } catch {}
  }
  return { name: 'tfjs', level: 'ok', detail: 'native backends absent: training runs on the wasm backend (transfer mode is fast; scratch mode is slow)' };
};

export const CHECKS: Check[] = [node, ffmpeg, redis, registry, backbone, data, tokens, port, tfjs];

export async function runChecks(config: Config): Promise<CheckResult[]> {
  return Promise.all(CHECKS.map((c) => c(config)));
}
