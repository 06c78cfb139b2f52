import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SkywatchError } from './errors.js';

/**
 * One typed configuration for every role. Sources, later wins: defaults, a JSON file
 * (SKYWATCH_CONFIG or --config), environment variables (SKYWATCH_*), then explicit overrides from the
 * command line. Invalid configuration fails at start with every problem listed, not just the first.
 */

const csv = z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(z.string().min(1)));
const bool = z.preprocess((v) => (typeof v === 'string' ? ['1', 'true', 'yes', 'on'].includes(v.toLowerCase()) : v), z.boolean());
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max = Number.MAX_VALUE) => z.coerce.number().min(min).max(max);

export const configSchema = z.object({
  stateDir: z.string().min(1).default('.state'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  registry: z.string().min(1).default('.state/registry'),
  data: z.string().min(1).default('../shared/data/images'),
  redis: z.object({
    url: z.string().regex(/^(rediss?|redis\+cluster):\/\//, 'must start with redis://, rediss:// or redis+cluster:// (seed nodes, comma-separated)').default('redis://127.0.0.1:6379'),
    prefix: z.string().min(1).default('skywatch'),
    /** Start a private redis-server under stateDir when none answers at `url` (one-machine mode). */
    autoStart: bool.default(true),
  }).prefault({}),
  gcs: z.object({
    apiEndpoint: z.string().url().optional(),
    projectId: z.string().optional(),
  }).prefault({}),
  api: z.object({
    host: z.string().optional(),
    port: int(0, 65535).default(8080),
    viewerTokens: csv.default([]),
    adminTokens: csv.default([]),
    bodyLimitBytes: int(1024).default(10 * 1024 * 1024),
    maxPixels: int(1).default(40_000_000),
    rateLimitPerMinute: int(0).default(0),
    /** POST /v1/predict/clip: largest video or .npz body, longest clip, most .npz frames. */
    clipMaxBytes: int(1024).default(64 * 1024 * 1024),
    clipMaxSeconds: num(0.1).default(30),
    clipMaxFrames: int(1).default(900),
  }).prefault({}),
  inference: z.object({
    intraOpThreads: int(1, 256).default(2),
    interOpThreads: int(1, 256).default(1),
    maxBatch: int(1, 1024).default(16),
    maxWaitMs: num(0, 10_000).default(2),
    pollIntervalMs: int(100).default(10_000),
    cacheDir: z.string().optional(),
  }).prefault({}),
  ingest: z.object({
    allowFileUrls: bool.default(false),
    watchdogSeconds: num(1).default(10),
    backoffMinMs: int(10).default(500),
    backoffMaxMs: int(100).default(30_000),
    maxInFlightPerCamera: int(1).default(8),
    frameDeadlineMs: int(10).default(2_000),
    leaseMs: int(500).default(10_000),
    defaultFps: num(0.1, 60).default(5),
  }).prefault({}),
  alerts: z.object({
    threshold: num(0, 1).default(0.6),
    k: int(1).default(3),
    n: int(1).default(5),
    cooldownMs: int(0).default(10_000),
    streamMaxLen: int(10).default(10_000),
    /** POST every alert event (JSON) here; retried with backoff. */
    webhookUrl: z.string().regex(/^https?:\/\//, 'must be an http(s) URL').optional(),
    /** At most one webhook call per camera and label this often (0: every event). */
    webhookCooldownMs: int(0).default(0),
  }).prefault({}),
  trainer: z.object({
    every: z.string().optional(),
    backbone: z.string().default('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx'),
  }).prefault({}),
  /** Drift of each camera's recent crops against the served model's training baseline (drift/). */
  drift: z.object({
    enabled: bool.default(true),
    /** 'psi': Population Stability Index above psiThreshold; 'ks': Kolmogorov-Smirnov p-value below ksPValue; 'both': either. */
    method: z.enum(['psi', 'ks', 'both']).default('psi'),
    psiThreshold: num(0).default(0.25),
    ksPValue: num(0, 1).default(0.001),
    /** Features that must drift for the camera to count as drifted. */
    minDriftedFeatures: int(1).default(1),
    /** Let the model's scores (not only the input statistics) mark a camera as drifted. */
    includeScores: bool.default(false),
    /** Smallest mean shift, in baseline standard deviations, that counts as drift (PSI and KS flag tiny consistent shifts). */
    minEffect: num(0).default(0.2),
    /** Recent crops kept per camera. */
    window: int(10, 100_000).default(300),
    /** No verdict before a camera has this many crops. */
    minSamples: int(5).default(100),
    /** Re-compare a camera every this many new crops. */
    everySamples: int(1).default(50),
    /** At most one drift event per camera this often on the alert sinks. */
    eventCooldownMs: int(0).default(900_000),
  }).prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Environment variable -> dotted path in the schema. Documented in docs/CONFIG.md. */
export const ENV_KEYS: Record<string, string> = {
  SKYWATCH_STATE_DIR: 'stateDir',
  SKYWATCH_LOG_LEVEL: 'logLevel',
  SKYWATCH_REGISTRY: 'registry',
  SKYWATCH_DATA: 'data',
  SKYWATCH_REDIS_URL: 'redis.url',
  SKYWATCH_REDIS_PREFIX: 'redis.prefix',
  SKYWATCH_REDIS_AUTOSTART: 'redis.autoStart',
  SKYWATCH_GCS_API_ENDPOINT: 'gcs.apiEndpoint',
  SKYWATCH_GCS_PROJECT_ID: 'gcs.projectId',
  SKYWATCH_API_HOST: 'api.host',
  SKYWATCH_API_PORT: 'api.port',
  SKYWATCH_VIEWER_TOKENS: 'api.viewerTokens',
  SKYWATCH_ADMIN_TOKENS: 'api.adminTokens',
  SKYWATCH_BODY_LIMIT_BYTES: 'api.bodyLimitBytes',
  SKYWATCH_MAX_PIXELS: 'api.maxPixels',
  SKYWATCH_RATE_LIMIT_PER_MINUTE: 'api.rateLimitPerMinute',
  SKYWATCH_CLIP_MAX_BYTES: 'api.clipMaxBytes',
  SKYWATCH_CLIP_MAX_SECONDS: 'api.clipMaxSeconds',
  SKYWATCH_CLIP_MAX_FRAMES: 'api.clipMaxFrames',
  SKYWATCH_INTRA_OP_THREADS: 'inference.intraOpThreads',
  SKYWATCH_INTER_OP_THREADS: 'inference.interOpThreads',
  SKYWATCH_MAX_BATCH: 'inference.maxBatch',
  SKYWATCH_MAX_WAIT_MS: 'inference.maxWaitMs',
  SKYWATCH_POLL_INTERVAL_MS: 'inference.pollIntervalMs',
  SKYWATCH_MODEL_CACHE_DIR: 'inference.cacheDir',
  SKYWATCH_ALLOW_FILE_URLS: 'ingest.allowFileUrls',
  SKYWATCH_WATCHDOG_SECONDS: 'ingest.watchdogSeconds',
  SKYWATCH_BACKOFF_MIN_MS: 'ingest.backoffMinMs',
  SKYWATCH_BACKOFF_MAX_MS: 'ingest.backoffMaxMs',
  SKYWATCH_MAX_IN_FLIGHT_PER_CAMERA: 'ingest.maxInFlightPerCamera',
  SKYWATCH_FRAME_DEADLINE_MS: 'ingest.frameDeadlineMs',
  SKYWATCH_LEASE_MS: 'ingest.leaseMs',
  SKYWATCH_DEFAULT_FPS: 'ingest.defaultFps',
  SKYWATCH_ALERT_THRESHOLD: 'alerts.threshold',
  SKYWATCH_ALERT_K: 'alerts.k',
  SKYWATCH_ALERT_N: 'alerts.n',
  SKYWATCH_ALERT_COOLDOWN_MS: 'alerts.cooldownMs',
  SKYWATCH_ALERT_STREAM_MAXLEN: 'alerts.streamMaxLen',
  SKYWATCH_ALERT_WEBHOOK_URL: 'alerts.webhookUrl',
  SKYWATCH_ALERT_WEBHOOK_COOLDOWN_MS: 'alerts.webhookCooldownMs',
  SKYWATCH_TRAIN_EVERY: 'trainer.every',
  SKYWATCH_BACKBONE: 'trainer.backbone',
  SKYWATCH_DRIFT_ENABLED: 'drift.enabled',
  SKYWATCH_DRIFT_METHOD: 'drift.method',
  SKYWATCH_DRIFT_PSI_THRESHOLD: 'drift.psiThreshold',
  SKYWATCH_DRIFT_KS_PVALUE: 'drift.ksPValue',
  SKYWATCH_DRIFT_WINDOW: 'drift.window',
  SKYWATCH_DRIFT_MIN_SAMPLES: 'drift.minSamples',
  SKYWATCH_DRIFT_EVERY_SAMPLES: 'drift.everySamples',
  SKYWATCH_DRIFT_MIN_DRIFTED_FEATURES: 'drift.minDriftedFeatures',
  SKYWATCH_DRIFT_INCLUDE_SCORES: 'drift.includeScores',
  SKYWATCH_DRIFT_MIN_EFFECT: 'drift.minEffect',
  SKYWATCH_DRIFT_EVENT_COOLDOWN_MS: 'drift.eventCooldownMs',
};

type Tree = Record<string, unknown>;

function setPath(target: Tree, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1]] = value;
}

function mergeDeep(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? mergeDeep(prev as Tree, value as Tree)
        : value;
  }
  return out;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  file?: string;
  overrides?: Tree;
}

/** Reads, merges and validates; throws CONFIG_INVALID with `details.problems` listing every issue. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  let fromFile: Tree = {};
  const file = options.file ?? env.SKYWATCH_CONFIG;
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) problems.push(`${file}: must hold a JSON object`);
      else fromFile = parsed as Tree;
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
    }
  }
  const fromEnv: Tree = {};
  for (const [name, dotted] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(fromEnv, dotted, value);
  }
  for (const name of Object.keys(env)) {
    if (name.startsWith('SKYWATCH_') && !(name in ENV_KEYS) && name !== 'SKYWATCH_CONFIG') problems.push(`${name}: unknown setting`);
  }
  const merged = mergeDeep(mergeDeep(fromFile, fromEnv), options.overrides ?? {});
  const result = configSchema.safeParse(merged);
  if (result.success && problems.length === 0) return result.data;
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  throw new SkywatchError('CONFIG_INVALID', `configuration is invalid:\n  - ${problems.join('\n  - ')}`, { problems });
}

/** Paths in the config are relative to the working directory; storage URLs pass through unchanged. */
export function resolveLocal(p: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p) ? p : path.resolve(p);
}

/** True when the API is reachable without a token, which is only allowed on loopback. */
export function tokensConfigured(config: Config): boolean {
  return config.api.viewerTokens.length > 0 || config.api.adminTokens.length > 0;
}
