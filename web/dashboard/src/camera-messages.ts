import type { Camera } from './types.js';

const STALE_MS = 10_000;
/** When this page first saw each camera down (for cameras that never delivered a frame). */
const firstSeenDown = new Map<string, number>();

/**
 * A camera that should be running but is not: enabled, and waiting to retry, given up, or trying
 * again after a failure without a frame for a while. (The state flips between connecting and
 * backoff on every retry; this answer does not.)
 */
export function isDown(cam: Camera): boolean {
  const st = cam.status;
  let down = false;
  if (cam.enabled && st) {
    if (st.state === 'backoff' || st.state === 'failed') down = true;
    else if (st.state === 'connecting' && st.lastError && (st.restarts ?? 0) > 0) down = st.lastFrameAt == null || Date.now() - st.lastFrameAt > STALE_MS;
  }
  if (!down) firstSeenDown.delete(cam.id);
  else if (!firstSeenDown.has(cam.id)) firstSeenDown.set(cam.id, Date.now());
  return down;
}

const CAUSES: Array<[RegExp, string]> = [
  [/no such file|not found|ENOENT/i, 'the stream or file does not exist'],
  [/401|unauthori[sz]ed|403|forbidden/i, 'the camera refused the user name or password'],
  [/404/, 'the camera has no stream at that address'],
  [/connection refused|ECONNREFUSED/i, 'nothing answers at that address (camera off or wrong port)'],
  [/timed? ?out|ETIMEDOUT|no frame/i, 'the camera stopped sending pictures'],
  [/resolve|ENOTFOUND|name or service/i, 'the camera\'s host name is unknown'],
  [/invalid data|could not find codec|unsupported|does not contain any stream/i, 'the stream is not a video this system can read'],
  [/network is unreachable|no route/i, 'the network to the camera is down'],
  [/ffprobe cannot read|exited with code/i, 'the camera does not answer at that address'],
];

/** What went wrong, for a person; the raw ffmpeg message stays available separately. */
export function humanCameraError(raw: string | null | undefined): string {
  if (!raw) return 'it stopped sending pictures';
  for (const [re, text] of CAUSES) if (re.test(raw)) return text;
  return 'the stream could not be read';
}

/** Since the last frame it delivered, or (never seen working) since this page first saw it down. */
export function downSince(cam: Camera): string {
  const since = cam.status?.lastFrameAt ?? firstSeenDown.get(cam.id);
  if (!since) return '';
  const d = new Date(since);
  const sameDay = d.toDateString() === new Date().toDateString();
  return d.toLocaleString([], sameDay ? { hour: '2-digit', minute: '2-digit' } : { dateStyle: 'medium', timeStyle: 'short' });
}
