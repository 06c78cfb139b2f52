import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseHostEntry } from '../ingest/camera-hosts.js';
import { SkywatchError } from './errors.js';

/**
 * One typed configuration for every role. Sources, later wins: defaults, a JSON file
 * (SKYWATCH_CONFIG or --config), environment variables (SKYWATCH_*), then explicit overrides from the
 * command line. Invalid configuration fails at start with every problem listed, not just the first.
 */

const csv = z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v), z.array(z.string().min(1)));
// A word that is neither yes nor no (`ture`) stays a string and fails as a boolean, instead of
// silently meaning false.
const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];
const bool = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  const word = v.trim().toLowerCase();
  return TRUE_WORDS.includes(word) ? true : FALSE_WORDS.includes(word) ? false : v;
}, z.boolean({ error: 'must be true or false (1/0, yes/no, on/off)' }));
const hostList = csv.superRefine((entries, ctx) => {
  for (const entry of entries) {
    try {
      parseHostEntry(entry);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }
});
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max = Number.MAX_VALUE) => z.coerce.number().min(min).max(max);

// Strict objects: a key the schema does not know (a typo in the config file) is a problem, not ignored.
export const configSchema = z.strictObject({
  stateDir: z.string().min(1).default('.state'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** On SIGTERM, time for in-flight work to finish; a part still stopping after it (a queue waiting
   * for a Redis that is down) is left, so the process always exits (keep it under the orchestrator's
   * grace period: 30 s in deploy/k8s). */
  shutdownTimeoutMs: int(1000).default(20_000),
  registry: z.string().min(1).default('.state/registry'),
  data: z.string().min(1).default('../shared/data/images'),
  redis: z.strictObject({
    url: z.string().regex(/^(rediss?|redis\+cluster):\/\//, 'must start with redis://, rediss:// or redis+cluster:// (seed nodes, comma-separated)').default('redis://127.0.0.1:6379'),
    prefix: z.string().min(1).default('skywatch'),
    /** Start a private redis-server under stateDir when none answers at `url` (one-machine mode). */
    autoStart: bool.default(true),
  }).prefault({}),
  gcs: z.strictObject({
    apiEndpoint: z.string().url().optional(),
    projectId: z.string().optional(),
  }).prefault({}),
  api: z.strictObject({
    host: z.string().optional(),
    port: int(0, 65535).default(8080),
    viewerTokens: csv.default([]),
    adminTokens: csv.default([]),
    bodyLimitBytes: int(1024).default(10 * 1024 * 1024),
    maxPixels: int(1).default(40_000_000),
    rateLimitPerMinute: int(0).default(0),
    /** Bytes of one multipart request, all its parts together (bodyLimitBytes bounds each file). */
    maxRequestBytes: int(1024).default(32 * 1024 * 1024),
    /** Time for a whole request (headers and body) to arrive; slower clients get 408 and are cut off. */
    requestTimeoutMs: int(1000).default(30_000),
    /** Time a route may take to answer; past it the answer is 503 DEPENDENCY_UNAVAILABLE. */
    handlerTimeoutMs: int(100).default(15_000),
    /** Host header names accepted besides the bind address, localhost and loopback (a DNS name,
     * a reverse proxy's name). With tokens and no list, any Host is accepted. */
    allowedHosts: csv.default([]),
    /** Origins (scheme://host:port) allowed to send mutations and open the WebSocket besides the
     * server's own. */
    allowedOrigins: csv.default([]),
    /** Lifetime of a dashboard session cookie exchanged for a token. */
    sessionTtlSeconds: int(60).default(12 * 3600),
    /** POST /v1/predict/clip: largest video or .npz body, longest clip, most .npz frames. */
    clipMaxBytes: int(1024).default(64 * 1024 * 1024),
    clipMaxSeconds: num(0.1).default(30),
    clipMaxFrames: int(1).default(900),
  }).prefault({}),
  inference: z.strictObject({
    intraOpThreads: int(1, 256).default(2),
    interOpThreads: int(1, 256).default(1),
    /**
     * Let ONNX Runtime's intra-op threads spin between runs. Off: on a small machine the spinning
     * burns the cores that ingest and ffmpeg need (docs/BENCHMARKS.md, capacity).
     */
    spinThreads: bool.default(false),
    /**
     * In a process that ingests and scores (`skywatch start`), frames of its own cameras scored in
     * process at once, without the queue's Redis round trips; more than this go through the queue,
     * where any worker takes them. 0: every frame through the queue.
     */
    inProcessFrames: int(0, 1024).default(8),
    maxBatch: int(1, 1024).default(16),
    maxWaitMs: num(0, 10_000).default(2),
    pollIntervalMs: int(100).default(10_000),
    cacheDir: z.string().optional(),
  }).prefault({}),
  ingest: z.strictObject({
    /**
     * File paths as camera URLs. Unset: allowed without tokens (the API then answers this machine's
     * own processes only, which can read its files anyway) and refused with tokens (a network's
     * clients must not make the server read its files). `true` / `false` decide in both modes.
     */
    allowFileUrls: bool.optional(),
    watchdogSeconds: num(1).default(10),
    backoffMinMs: int(10).default(500),
    backoffMaxMs: int(100).default(30_000),
    /** Frames of a camera being scored at once: a live camera's next frame past it loses its crops; a recording waits. */
    maxInFlightPerCamera: int(1).default(8),
    /** A live camera's frame that waited this long in the queue for a worker (from ingest's hand-over) goes unscored (a recording's never). */
    frameDeadlineMs: int(10).default(2_000),
    /**
     * A live camera (RTSP, HTTP) that falls this far behind its stream (capture time against the wall
     * clock) while a newer frame is already decoded skips frames until it is back: an overloaded machine
     * then runs motion and tracking on fewer, fresher frames instead of on every frame ever later. File
     * cameras (recordings) play every frame, later. 0: never skip.
     */
    maxFrameLagMs: int(0).default(1_000),
    /**
     * A looping file camera stands in for a live one (capacity benchmarks): one endless stream (ffmpeg's
     * loop, no fresh start at each pass) whose frames lose their crops at the in-flight bound, thin when
     * inference is behind and have a queue deadline, as a live stream's do. Off (the default), every
     * file camera is a recording, judged whole however loaded the machine (it plays later instead), and
     * a looping one starts each pass afresh.
     */
    loopsAsLive: bool.default(false),
    /**
     * A video file on a web server (an HTTP(S) URL with a length) is fetched to a local copy and played
     * from it: servers without range requests (python's http.server) cannot serve an MP4 whose index is
     * at its end to ffmpeg directly. The copies of an ingest process take at most this much disk
     * together (in the system's temporary folder); a file that does not fit is played from the server.
     */
    webFileMaxBytes: int(0).default(1024 * 1024 * 1024),
    leaseMs: int(500).default(10_000),
    defaultFps: num(0.1, 60).default(5),
    /** `skywatch start` adds a demo camera (a real drone clip, looping) when there is no camera; false (or --no-demo) does not. */
    demoCamera: bool.default(true),
    /** When not empty, the only hosts camera URLs may use (addresses, CIDR ranges, names, *.suffix). */
    allowHosts: hostList.default([]),
    /** Hosts camera URLs may not use. Unset: link-local, unspecified, multicast and broadcast
     * always, and loopback too when tokens are set (see docs/SECURITY.md). */
    denyHosts: hostList.optional(),
    /** Most cameras the store may hold and one ingestor may pull. */
    maxCameras: int(1, 10_000).default(64),
    /** ffmpeg and ffprobe starts per second, all cameras together (reconnect storms stay bounded). */
    spawnsPerSecond: num(0.1, 1000).default(4),
  }).prefault({}),
  tracking: z.strictObject({
    /** Matches before a moving region is a track worth a crop (shorter ones are flicker). */
    confirmHits: int(1, 100).default(2),
    /** A track with no match for this long, in capture time (the video's own clock), has ended: its alert closes. */
    maxGapMs: int(50, 600_000).default(1_500),
    /** Safety on the wall clock: a camera that sent no frame for this long has its tracks ended. */
    idleEndMs: int(100, 3_600_000).default(5_000),
    /** Crop scores not back from a worker after this long (wall clock) count as dropped, so tracks never wait forever. */
    resultTimeoutMs: int(100, 600_000).default(10_000),
    /** Sky around an object in its crop, as a share of its larger side on each side. */
    cropContext: num(0, 4).default(0.5),
    /** Smallest side of a crop, in frame pixels (tiny objects still get some sky). */
    cropMinSide: int(4, 4096).default(32),
    /** With `cropEvery` > 1: crops of a track without an alert that are all classified before thinning. */
    denseCrops: int(1, 100_000).default(8),
    /** Then one frame in this many for tracks without an alert (1: every frame; more saves CPU and costs recall, see docs/PIPELINE.md). */
    cropEvery: int(1, 100).default(1),
    /** Once a track's alert is open, one of its frames in this many is classified. */
    alertCropEvery: int(1, 100).default(3),
    /**
     * A camera with this many frames still being scored is behind (inference is the bottleneck): until
     * it catches up, its tracks past their first `denseCrops` frames, and its alerting tracks, are
     * classified `pressureCropEvery` times more sparsely. 0: never thinned.
     */
    pressureInFlight: int(0, 1000).default(2),
    /** How much sparser a camera's crops are while it is behind (1: not at all). */
    pressureCropEvery: int(1, 100).default(3),
  }).prefault({}),
  alerts: z.strictObject({
    /** A track's verdict score for an alert label at or above this opens its alert (cameras can override). */
    threshold: num(0, 1).default(0.6),
    /** Labels whose verdicts open alerts (cameras can override). */
    labels: csv.default(['drone']),
    /** Crops scored before a track's verdict may open an alert. */
    minCrops: int(1, 1000).default(3),
    /** At most one update event per alert this often, in capture time. */
    updateEveryMs: int(0).default(1_000),
    /** A lost drone that comes back as a new track this soon (capture time), near where it was lost,
     * continues its alert instead of opening another (docs/DETECTION.md); 0: an alert ends with its track. */
    rejoinMs: int(0, 60_000).default(4_000),
    /** Seconds of evidence clip per alert (MP4, made on open and on close); 0: no clips. */
    clipSeconds: num(0, 30).default(4),
    /** Best crops (PNG) stored per alert for review feedback. */
    bestCrops: int(0, 32).default(4),
    streamMaxLen: int(10).default(10_000),
    /** POST every alert event (JSON) here; retried with backoff. */
    webhookUrl: z.string().regex(/^https?:\/\//, 'must be an http(s) URL').optional(),
    /** At most one webhook call per camera and label this often (0: every event). */
    webhookCooldownMs: int(0).default(0),
  }).prefault({}),
  review: z.strictObject({
    /** SQLite file of alert records, reviews and feedback (default: <stateDir>/skywatch.db). */
    db: z.string().min(1).default('.state/skywatch.db'),
    /** PostgreSQL instead of SQLite, when several API processes share the records. */
    postgresUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional(),
    /** Alert records (and their snapshots) older than this are deleted; 0 keeps them forever. */
    retentionDays: num(0, 36_500).default(30),
    /** An alert whose best score is within this of the threshold is marked uncertain (queued for review). */
    uncertainBand: num(0, 1).default(0.1),
  }).prefault({}),
  mqtt: z.strictObject({
    enabled: bool.default(false),
    url: z.string().regex(/^mqtts?:\/\//, 'must start with mqtt:// or mqtts://').default('mqtt://127.0.0.1:1883'),
    /** Topics are <prefix>/available, <prefix>/events, <prefix>/<camera>/<label>, <prefix>/<camera>/status. */
    topicPrefix: z.string().regex(/^[^#+\s]+$/, 'must not contain #, + or spaces').default('skywatch'),
  }).prefault({}),
  trainer: z.strictObject({
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
  SKYWATCH_SHUTDOWN_TIMEOUT_MS: 'shutdownTimeoutMs',
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
  SKYWATCH_MAX_REQUEST_BYTES: 'api.maxRequestBytes',
  SKYWATCH_REQUEST_TIMEOUT_MS: 'api.requestTimeoutMs',
  SKYWATCH_HANDLER_TIMEOUT_MS: 'api.handlerTimeoutMs',
  SKYWATCH_ALLOWED_HOSTS: 'api.allowedHosts',
  SKYWATCH_ALLOWED_ORIGINS: 'api.allowedOrigins',
  SKYWATCH_SESSION_TTL_SECONDS: 'api.sessionTtlSeconds',
  SKYWATCH_CLIP_MAX_BYTES: 'api.clipMaxBytes',
  SKYWATCH_CLIP_MAX_SECONDS: 'api.clipMaxSeconds',
  SKYWATCH_CLIP_MAX_FRAMES: 'api.clipMaxFrames',
  SKYWATCH_INTRA_OP_THREADS: 'inference.intraOpThreads',
  SKYWATCH_INTER_OP_THREADS: 'inference.interOpThreads',
  SKYWATCH_INFERENCE_SPIN: 'inference.spinThreads',
  SKYWATCH_IN_PROCESS_FRAMES: 'inference.inProcessFrames',
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
  SKYWATCH_MAX_FRAME_LAG_MS: 'ingest.maxFrameLagMs',
  SKYWATCH_LOOPS_AS_LIVE: 'ingest.loopsAsLive',
  SKYWATCH_WEB_FILE_MAX_BYTES: 'ingest.webFileMaxBytes',
  SKYWATCH_LEASE_MS: 'ingest.leaseMs',
  SKYWATCH_DEFAULT_FPS: 'ingest.defaultFps',
  SKYWATCH_DEMO_CAMERA: 'ingest.demoCamera',
  SKYWATCH_CAMERA_ALLOW_HOSTS: 'ingest.allowHosts',
  SKYWATCH_CAMERA_DENY_HOSTS: 'ingest.denyHosts',
  SKYWATCH_MAX_CAMERAS: 'ingest.maxCameras',
  SKYWATCH_SPAWNS_PER_SECOND: 'ingest.spawnsPerSecond',
  SKYWATCH_ALERT_THRESHOLD: 'alerts.threshold',
  SKYWATCH_ALERT_LABELS: 'alerts.labels',
  SKYWATCH_ALERT_MIN_CROPS: 'alerts.minCrops',
  SKYWATCH_ALERT_UPDATE_EVERY_MS: 'alerts.updateEveryMs',
  SKYWATCH_ALERT_REJOIN_MS: 'alerts.rejoinMs',
  SKYWATCH_ALERT_CLIP_SECONDS: 'alerts.clipSeconds',
  SKYWATCH_ALERT_BEST_CROPS: 'alerts.bestCrops',
  SKYWATCH_TRACK_CONFIRM_HITS: 'tracking.confirmHits',
  SKYWATCH_TRACK_MAX_GAP_MS: 'tracking.maxGapMs',
  SKYWATCH_TRACK_IDLE_END_MS: 'tracking.idleEndMs',
  SKYWATCH_TRACK_RESULT_TIMEOUT_MS: 'tracking.resultTimeoutMs',
  SKYWATCH_TRACK_CROP_CONTEXT: 'tracking.cropContext',
  SKYWATCH_TRACK_CROP_MIN_SIDE: 'tracking.cropMinSide',
  SKYWATCH_TRACK_DENSE_CROPS: 'tracking.denseCrops',
  SKYWATCH_TRACK_CROP_EVERY: 'tracking.cropEvery',
  SKYWATCH_TRACK_ALERT_CROP_EVERY: 'tracking.alertCropEvery',
  SKYWATCH_TRACK_PRESSURE_IN_FLIGHT: 'tracking.pressureInFlight',
  SKYWATCH_TRACK_PRESSURE_CROP_EVERY: 'tracking.pressureCropEvery',
  SKYWATCH_ALERT_STREAM_MAXLEN: 'alerts.streamMaxLen',
  SKYWATCH_ALERT_WEBHOOK_URL: 'alerts.webhookUrl',
  SKYWATCH_ALERT_WEBHOOK_COOLDOWN_MS: 'alerts.webhookCooldownMs',
  SKYWATCH_REVIEW_DB: 'review.db',
  SKYWATCH_REVIEW_POSTGRES_URL: 'review.postgresUrl',
  SKYWATCH_REVIEW_RETENTION_DAYS: 'review.retentionDays',
  SKYWATCH_REVIEW_UNCERTAIN_BAND: 'review.uncertainBand',
  SKYWATCH_MQTT_ENABLED: 'mqtt.enabled',
  SKYWATCH_MQTT_URL: 'mqtt.url',
  SKYWATCH_MQTT_TOPIC_PREFIX: 'mqtt.topicPrefix',
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
  const merged = withStateDefaults(mergeDeep(mergeDeep(fromFile, fromEnv), options.overrides ?? {}));
  const result = configSchema.safeParse(merged);
  if (result.success && problems.length === 0) return result.data;
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(describeIssue(issue, env, file));
  }
  throw new SkywatchError('CONFIG_INVALID', `configuration is invalid:\n  - ${problems.join('\n  - ')}`, { problems });
}

/** Names a problem by what the user set: the variable, the config file's key, or the override. */
function describeIssue(issue: z.core.$ZodIssue, env: NodeJS.ProcessEnv, file: string | undefined): string {
  const keys = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : [];
  const base = issue.path.map(String).join('.');
  if (keys.length) return keys.map((k) => `${file ? `${file}: ` : ''}${base ? `${base}.` : ''}${k}: unknown setting`).join('; ');
  const variable = Object.entries(ENV_KEYS).find(([name, dotted]) => dotted === base && env[name] !== undefined && env[name] !== '')?.[0];
  return variable ? `${variable} (${base}): ${issue.message}` : `${base || '(root)'}: ${issue.message}`;
}

/**
 * Paths that live under the state folder by default follow it: SKYWATCH_STATE_DIR alone moves the
 * registry and the review database (the schema's defaults are those of the default state folder).
 */
function withStateDefaults(merged: Tree): Tree {
  const stateDir = typeof merged.stateDir === 'string' && merged.stateDir ? merged.stateDir : '.state';
  const out: Tree = { ...merged };
  if (out.registry === undefined) out.registry = path.join(stateDir, 'registry');
  const review = (typeof out.review === 'object' && out.review !== null ? out.review : {}) as Tree;
  if (review.db === undefined) out.review = { ...review, db: path.join(stateDir, 'skywatch.db') };
  return out;
}

/** Paths in the config are relative to the working directory; storage URLs pass through unchanged. */
export function resolveLocal(p: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p) ? p : path.resolve(p);
}

/** True when the API is reachable without a token, which is only allowed on loopback. */
export function tokensConfigured(config: Config): boolean {
  return config.api.viewerTokens.length > 0 || config.api.adminTokens.length > 0;
}

/** Whether cameras may be file paths: as configured, else only while the API serves this machine alone (no tokens). */
export function fileUrlsAllowed(config: Config): boolean {
  return config.ingest.allowFileUrls ?? !tokensConfigured(config);
}
