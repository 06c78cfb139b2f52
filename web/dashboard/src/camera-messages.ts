import type { Camera } from './types.js';

/** A camera that should be running but is not: enabled, and reconnecting or given up. */
export function isDown(cam: Camera): boolean {
  return cam.enabled && (cam.status?.state === 'backoff' || cam.status?.state === 'failed');
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
];

/** What went wrong, for a person; the raw ffmpeg message stays available separately. */
export function humanCameraError(raw: string | null | undefined): string {
  if (!raw) return 'it stopped sending pictures';
  for (const [re, text] of CAUSES) if (re.test(raw)) return text;
  return 'the stream could not be read';
}

export function downSince(cam: Camera): string {
  const since = cam.status?.since;
  if (!since) return '';
  const d = new Date(since);
  const sameDay = d.toDateString() === new Date().toDateString();
  return d.toLocaleString([], sameDay ? { hour: '2-digit', minute: '2-digit' } : { dateStyle: 'medium', timeStyle: 'short' });
}
