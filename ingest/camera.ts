import { randomBytes } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SkywatchError } from '../core/errors.js';
import type { Polygon } from '../core/geometry/polygon.js';
import { redactUrl } from '../core/redact.js';
import { bareHost, hostRules, STRICT_HOST_POLICY, type CameraHostPolicy } from './camera-hosts.js';
import type { MotionOptions } from './motion.js';

/**
 * A camera as stored: the URL keeps its credentials (ffmpeg needs them) and leaves this module only
 * through `publicCamera`, which masks them.
 */
export interface Camera {
  id: string;
  name: string;
  url: string;
  fps: number;
  enabled: boolean;
  /** Decode width in pixels (height follows the aspect); absent: the stream's own, at most 1280. */
  width?: number;
  /**
   * A second, higher-resolution stream of the same view (an RTSP main stream beside the sub stream in
   * `url`), read only for crops: motion and tracking run on `url`, and a small object's crop is cut
   * from the matching frame of this one. Credentials are masked like the URL's.
   */
  cropUrl?: string;
  /** Per-camera motion thresholds over the defaults. */
  motion: Partial<CameraMotion>;
  /** File cameras only: false plays the file once, then the camera reports `ended` (default: play it again and again, each pass from a fresh start). */
  loop?: boolean;
  /** Set only by the server for the demo camera of `start`: the one camera that may read a file
   * when ingest.allowFileUrls is off. Never settable over the API; a new URL clears it. */
  demo?: boolean;
  /** Areas motion detection ignores (trees, antennas, timestamps), normalised 0..1 of the frame (new cameras get []). */
  motionMasks?: Polygon[];
  /** When not empty, only objects whose centre is inside one of these raise alerts. */
  alertZones?: Polygon[];
  /** Alert threshold for this camera (default: alerts.threshold). */
  threshold?: number;
  /** Labels that raise alerts on this camera (default: drone). */
  labels?: string[];
  createdAt: number;
  updatedAt: number;
}

export type CameraMotion = Pick<MotionOptions, 'threshold' | 'minArea' | 'maxRegions' | 'mergeDistance' | 'detectWidth'>;

/** What the API shows: the URL with its user and password masked. */
export type PublicCamera = Omit<Camera, 'url'> & { url: string };

export type CameraSource = 'rtsp' | 'http' | 'file';

export interface CameraRules {
  allowFileUrls: boolean;
  defaultFps: number;
  /** Hosts camera URLs may point at; the strict default (no loopback) when absent. */
  hosts?: CameraHostPolicy;
  /** Most cameras the store may hold; unlimited when absent. */
  maxCameras?: number;
}

const motionSchema = z.object({
  threshold: z.number().int().min(1).max(255),
  minArea: z.number().int().min(1).max(1_000_000),
  maxRegions: z.number().int().min(1).max(64),
  mergeDistance: z.number().int().min(0).max(1000),
  detectWidth: z.number().int().min(32).max(1280),
}).partial().strict();

const polygon = z.array(z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]), { error: 'must be a list of [x, y] points' })
  .min(3, 'needs at least 3 points').max(64, 'has more than 64 points');
const polygons = z.array(polygon).max(32, 'at most 32 polygons');

const fields = {
  name: z.string().trim().min(1).max(100),
  url: z.string().trim().min(1).max(2048),
  cropUrl: z.string().trim().min(1).max(2048),
  fps: z.number().min(0.1).max(60),
  enabled: z.boolean(),
  width: z.number().int().min(32).max(3840),
  motion: motionSchema,
  motionMasks: polygons,
  alertZones: polygons,
  threshold: z.number().min(0).max(1),
  labels: z.array(z.string().trim().min(1).max(100)).min(1, 'needs at least one label').max(32),
  loop: z.boolean(),
};

const createSchema = z.object({
  ...fields, fps: fields.fps.optional(), enabled: fields.enabled.optional(), width: fields.width.optional(), motion: motionSchema.optional(),
  motionMasks: polygons.optional(), alertZones: polygons.optional(), threshold: fields.threshold.optional(), labels: fields.labels.optional(),
  loop: fields.loop.optional(), cropUrl: fields.cropUrl.optional(),
}).strict();
// `cropUrl: null` removes the second stream.
const patchSchema = z.object({ ...fields, cropUrl: fields.cropUrl.nullable() }).partial().strict();

export type CameraInput = z.input<typeof createSchema>;
export type CameraPatch = z.input<typeof patchSchema>;

/** Control characters, space, DEL: never part of a URL ffmpeg should see (CR/LF smuggle protocol lines). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_CHARS = /[\u0000-\u0020\u007f-\u009f]/;

export interface CheckedCameraUrl {
  /** What is stored and handed to ffmpeg: exactly the string that was checked. */
  url: string;
  source: CameraSource;
}

/**
 * Checks a camera URL and returns its normalised form, or throws CAMERA_URL_SCHEME /
 * CAMERA_URL_INVALID / CAMERA_URL_HOST. WHATWG's parser silently drops CR, LF and tab, so a raw URL
 * that passed a parse could still carry them to ffmpeg: they are refused before parsing, and the
 * caller stores and uses the normalised URL, never the raw string.
 */
export function checkCameraUrl(raw: string, allowFileUrls: boolean, hosts: CameraHostPolicy = STRICT_HOST_POLICY): CheckedCameraUrl {
  if (UNSAFE_CHARS.test(raw)) throw new SkywatchError('CAMERA_URL_INVALID', 'camera URL holds a control character, space, NUL or DEL (percent-encode them)', { field: 'url' });
  // ffmpeg reads `name:` and `name,options:` as protocols, and has dangerous ones (concat, subfile,
  // pipe, data) that must not pass. One-letter "schemes" are Windows drives, which are paths.
  const scheme = /^([a-z][a-z0-9+.-]*)[:,]/i.exec(raw)?.[1]?.toLowerCase();
  if (scheme && scheme.length > 1 && scheme !== 'file') {
    if (!['rtsp', 'rtsps', 'http', 'https'].includes(scheme)) {
      throw new SkywatchError('CAMERA_URL_SCHEME', `scheme ${scheme}: is not allowed (rtsp, rtsps, http, https${allowFileUrls ? ', file paths' : ''})`, { field: 'url', scheme });
    }
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new SkywatchError('CAMERA_URL_INVALID', 'camera URL cannot be parsed', { field: 'url' });
    }
    if (!parsed.hostname) throw new SkywatchError('CAMERA_URL_INVALID', 'camera URL has no host', { field: 'url' });
    const host = bareHost(parsed.hostname);
    // rtsp is not a "special" scheme to WHATWG, so its host is not normalised: `rtsp://2130706433/`
    // or `rtsp://127.1/` would pass a check for 127.0.0.1 and still reach it through getaddrinfo.
    // Only canonical addresses are accepted, so the host checked is the host ffmpeg connects to.
    if (!isIP(host)) {
      let canonical: string | null = null;
      try {
        canonical = bareHost(new URL(`http://${parsed.host}/`).hostname);
      } catch {
        throw new SkywatchError('CAMERA_URL_INVALID', 'camera URL host is not a valid host name', { field: 'url' });
      }
      if (isIP(canonical) || canonical !== host.toLowerCase()) throw new SkywatchError('CAMERA_URL_INVALID', 'camera URL host must be a host name or an address in its usual form (a.b.c.d, [v6])', { field: 'url' });
    }
    if (!hostRules(hosts).allowed(host)) throw new SkywatchError('CAMERA_URL_HOST', `camera host ${host} is not allowed (ingest.allowHosts / ingest.denyHosts)`, { field: 'url', host });
    const url = parsed.href;
    if (UNSAFE_CHARS.test(url)) throw new SkywatchError('CAMERA_URL_INVALID', 'camera URL cannot be normalised', { field: 'url' });
    return { url, source: scheme.startsWith('rtsp') ? 'rtsp' : 'http' };
  }
  if (!allowFileUrls) throw new SkywatchError('CAMERA_URL_SCHEME', 'file paths are not allowed as cameras (set ingest.allowFileUrls)', { field: 'url', scheme: 'file' });
  let file: string;
  try {
    file = filePath(raw);
  } catch {
    throw new SkywatchError('CAMERA_URL_INVALID', 'no readable video file at that path', { field: 'url' });
  }
  // One answer for missing, unreadable and not-a-file, so the API does not map the file system.
  let ok = false;
  try {
    ok = statSync(file).isFile();
    accessSync(file, constants.R_OK);
  } catch {
    ok = false;
  }
  if (!ok) throw new SkywatchError('CAMERA_URL_INVALID', 'no readable video file at that path', { field: 'url' });
  return { url: file, source: 'file' };
}

/** Which protocol family a URL is (see checkCameraUrl). */
export function cameraSource(url: string, allowFileUrls: boolean, hosts?: CameraHostPolicy): CameraSource {
  return checkCameraUrl(url, allowFileUrls, hosts).source;
}

/** A file camera's path on disk (file:// URLs and plain paths). */
export function filePath(url: string): string {
  return path.resolve(url.startsWith('file:') ? fileURLToPath(url) : url);
}

/** A field path as a form names it: `alertZones[1][0]`, `motion.threshold`. */
function fieldName(path: PropertyKey[]): string {
  return path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '');
}

function invalid(err: z.ZodError): SkywatchError {
  const first = err.issues[0];
  const field = first ? fieldName(first.path) || undefined : undefined;
  const problems = err.issues.map((i) => `${fieldName(i.path) || '(body)'}: ${i.message}`);
  return new SkywatchError('BAD_REQUEST', problems.join('; '), { ...(field ? { field } : {}), problems });
}

function newId(): string {
  return `cam_${randomBytes(6).toString('hex')}`;
}

/** Validates an untrusted create request into a camera. */
export function createCamera(body: unknown, rules: CameraRules, now = Date.now()): Camera {
  const parsed = createSchema.safeParse(body);
  if (!parsed.success) throw invalid(parsed.error);
  const input = parsed.data;
  const { url } = checkCameraUrl(input.url, rules.allowFileUrls, rules.hosts);
  const cropUrl = input.cropUrl === undefined ? undefined : checkCropUrl(input.cropUrl, rules);
  return {
    id: newId(),
    name: input.name,
    url,
    ...(cropUrl ? { cropUrl } : {}),
    fps: input.fps ?? rules.defaultFps,
    enabled: input.enabled ?? true,
    ...(input.width ? { width: input.width } : {}),
    ...(input.loop !== undefined ? { loop: input.loop } : {}),
    motion: input.motion ?? {},
    motionMasks: input.motionMasks ?? [],
    alertZones: input.alertZones ?? [],
    ...(input.threshold !== undefined ? { threshold: input.threshold } : {}),
    ...(input.labels ? { labels: input.labels } : {}),
    createdAt: now,
    updatedAt: now,
  };
}

/** Applies an untrusted patch; the id and creation time never change. */
export function patchCamera(camera: Camera, body: unknown, rules: CameraRules, now = Date.now()): Camera {
  const parsed = patchSchema.safeParse(body);
  if (!parsed.success) throw invalid(parsed.error);
  const patch = parsed.data;
  const url = patch.url === undefined ? camera.url : checkCameraUrl(patch.url, rules.allowFileUrls, rules.hosts).url;
  const cropUrl = patch.cropUrl === undefined ? camera.cropUrl : patch.cropUrl === null ? undefined : checkCropUrl(patch.cropUrl, rules);
  const { demo: _demo, cropUrl: _cropUrl, ...rest } = camera;
  const { cropUrl: _patchCropUrl, ...fieldsPatch } = patch;
  return {
    ...rest,
    // A new URL is the user's, not the server's demo file: it loses the demo exemption.
    ...(patch.url === undefined && camera.demo ? { demo: camera.demo } : {}),
    ...fieldsPatch,
    url,
    ...(cropUrl ? { cropUrl } : {}),
    motion: patch.motion ? { ...camera.motion, ...patch.motion } : camera.motion,
    id: camera.id,
    createdAt: camera.createdAt,
    updatedAt: Math.max(now, camera.updatedAt + 1),
  };
}

export function publicCamera(camera: Camera): PublicCamera {
  return { ...camera, url: redactUrl(camera.url), ...(camera.cropUrl ? { cropUrl: redactUrl(camera.cropUrl) } : {}) };
}

/** The crop stream's URL passes exactly the checks of the main one (errors name the field `cropUrl`). */
function checkCropUrl(raw: string, rules: CameraRules): string {
  try {
    return checkCameraUrl(raw, rules.allowFileUrls, rules.hosts).url;
  } catch (err) {
    if (err instanceof SkywatchError) throw new SkywatchError(err.code, err.message.replace(/^camera URL/, 'crop stream URL'), { ...err.details, field: 'cropUrl' });
    throw err;
  }
}

/** Reads a stored record back, refusing anything that is not a camera (a corrupt or foreign key). */
export function parseStoredCamera(json: string): Camera | null {
  try {
    const value = JSON.parse(json) as Partial<Camera>;
    if (typeof value?.id !== 'string' || typeof value.url !== 'string' || typeof value.name !== 'string' || typeof value.fps !== 'number') return null;
    return { enabled: true, motion: {}, motionMasks: [], alertZones: [], createdAt: 0, updatedAt: 0, ...value } as Camera;
  } catch {
    return null;
  }
}

/**
 * How a camera's source is read: the ffmpeg input and its options, and what its end means.
 */
export interface FfmpegSource {
  input: string;
  options: string[];
  /** The protocol family: an HTTP(S) source may turn out to be a file (playedAsRecording). */
  kind: CameraSource;
  /** Read at its native rate (a file standing in for a live camera). */
  realtime: boolean;
  /** A file played once (`loop: false`): its end is the camera's end (`ended`), not a failure. */
  playOnce: boolean;
  /**
   * A looping file: at its end it is played again from its start as a new pass, with a fresh motion
   * background and tracker, as if added again. ffmpeg's own seamless loop joined the last frame to the
   * first, a cut a sky camera never has: motion took the whole difference for objects (birds, clouds)
   * and the tracker tied the drone's last box to its first.
   */
  replay: boolean;
}

/**
 * ffmpeg input options for a camera: RTSP over TCP with a socket timeout, HTTP with a read timeout and
 * reconnects, files at their native rate so they behave like live cameras (played again from the start
 * unless `loop: false`).
 */
export function ffmpegInput(camera: Camera, allowFileUrls: boolean, watchdogMs: number, hosts?: CameraHostPolicy, stream: 'main' | 'crop' = 'main'): FfmpegSource {
  // ffmpeg's own socket timeout is only a backstop behind the watchdog, which also catches a stream that
  // stays connected but stops sending. The stored URL is checked again (a record written before these
  // rules, or by hand, gets no pass) and ffmpeg gets the normalised string that was checked.
  const us = String(Math.round(watchdogMs * 2000));
  const threads = DECODE_THREADS;
  const raw = stream === 'main' ? camera.url : camera.cropUrl;
  if (raw === undefined) throw new SkywatchError('CAMERA_URL_INVALID', 'this camera has no crop stream', { field: 'cropUrl' });
  // The demo exemption covers the demo file only, never a crop stream added to it.
  const checked = checkCameraUrl(raw, allowFileUrls || (stream === 'main' && camera.demo === true), hosts);
  switch (checked.source) {
    case 'rtsp':
      return { input: checked.url, kind: 'rtsp', options: ['-rtsp_transport', 'tcp', '-timeout', us, ...threads], realtime: false, playOnce: false, replay: false };
    case 'http':
      // Redirects are not followed: the host checked is the only host connected to.
      return { input: checked.url, kind: 'http', options: ['-rw_timeout', us, '-max_redirects', '0', ...threads], realtime: false, playOnce: false, replay: false };
    case 'file':
      return { input: checked.url, kind: 'file', options: threads, ...fileRules(camera) };
  }
}

/** What a file's end means, and its pace: native, as a live camera would deliver it. */
function fileRules(camera: Camera): Pick<FfmpegSource, 'realtime' | 'playOnce' | 'replay'> {
  return { realtime: true, playOnce: camera.loop === false, replay: camera.loop !== false };
}

/**
 * The source as it is to be played once ffprobe has seen it. A video file on a web server (an MP4, a
 * finished HLS recording) has a length; a live HTTP stream (MJPEG, live HLS) has none. Read as a live
 * stream, a file arrives as fast as the server sends it: 10 s of clip in a fraction of a second, most
 * of its crops dropped at the camera's in-flight bound, then "stream ended" and a reconnect after
 * backoff. Played as a file camera instead: at its native rate, a recording scored whole, looping
 * unless `loop: false`; ffmpeg reconnects (with a range request) should the server drop the connection
 * while a busy machine reads slowly. RTSP keeps its own pace whatever it serves.
 */
export function playedAsRecording(source: FfmpegSource, durationMs: number | null, camera: Camera): FfmpegSource {
  if (source.kind !== 'http' || durationMs === null) return source;
  return { ...source, options: ['-reconnect', '1', ...source.options], ...fileRules(camera) };
}

/** A video file from a web server, played from its local copy (web-recordings.ts). */
export function playedFromCopy(source: FfmpegSource, file: string): FfmpegSource {
  return { ...source, kind: 'file', input: file, options: DECODE_THREADS };
}

/**
 * One decoding thread per camera: many cameras share few cores, and a thread pool per ffmpeg child
 * costs CPU in synchronisation (measured: 13% less CPU per camera, identical pixels).
 */
const DECODE_THREADS = ['-threads', '1'];
