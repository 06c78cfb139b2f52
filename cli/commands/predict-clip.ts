import { readFile } from 'node:fs/promises';
import { SkywatchError } from '../../core/errors.js';
import { predictClipUpload, type ClipAnswer } from '../../inference/clip-upload.js';
import type { CliContext } from '../context.js';
import { openLocalServing } from './local-serving.js';

export const CLIP_FILE = /\.(mp4|webm|mov|npz)$/i;

const TYPES: Record<string, string> = { mp4: 'video/mp4', webm: 'video/webm', mov: 'video/quicktime', npz: 'application/x-npz' };

export type ClipCliAnswer = (ClipAnswer & { file: string }) | { file: string; error: { code: string; message: string } };

/** `skywatch predict clip.mp4`: each clip through the camera pipeline, here or on a server. */
export async function predictClipFiles(ctx: CliContext, files: string[], opts: { server?: string; token?: string; model: string; registry?: string; fps?: number }): Promise<ClipCliAnswer[]> {
  const answers: ClipCliAnswer[] = [];
  if (opts.server) {
    for (const file of files) {
      const ext = file.split('.').pop()!.toLowerCase();
      const url = new URL('/v1/predict/clip', opts.server);
      if (opts.fps) url.searchParams.set('fps', String(opts.fps));
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': TYPES[ext], ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) }, body: new Uint8Array(await readFile(file)) }).catch((err: Error) => {
        throw new SkywatchError('DEPENDENCY_UNAVAILABLE', `cannot reach ${opts.server}: ${err.message}`);
      });
      const body = (await res.json()) as ClipAnswer & { error?: { code: string; message: string } };
      answers.push(body.error ? { file, error: body.error } : { ...body, file });
    }
    return answers;
  }
  const config = ctx.config();
  const serving = await openLocalServing(ctx, opts.registry, opts.model);
  try {
    for (const file of files) {
      try {
        const body = await readFile(file).catch(() => {
          throw new SkywatchError('NOT_FOUND', `cannot read ${file}`);
        });
        answers.push({ ...(await predictClipUpload(body, serving, { maxBytes: config.api.clipMaxBytes, maxSeconds: config.api.clipMaxSeconds, maxFrames: config.api.clipMaxFrames, maxPixels: config.api.maxPixels }, opts.fps ? { fps: opts.fps } : {})), file });
      } catch (err) {
        const e = err as SkywatchError;
        answers.push({ file, error: { code: e.code ?? 'INTERNAL', message: e.message } });
      }
    }
  } finally {
    await serving.close();
  }
  return answers;
}

export function formatClipAnswers(answers: ClipCliAnswer[]): string {
  return answers.map((a) => {
    if ('error' in a) return `${a.file}: error ${a.error.code}: ${a.error.message}`;
    const head = `${a.file}: ${a.drone ? `DRONE (first alert at ${((a.firstAlertMs ?? 0) / 1000).toFixed(1)} s)` : 'no drone'}; ${a.tracks.length} tracks in ${(a.durationMs / 1000).toFixed(1)} s of video (${a.frames} frames at ${a.fps} fps, ${a.width}x${a.height}), model ${a.modelVersion}, ${a.seconds.toFixed(1)} s`;
    const rows = a.tracks.map((t) => `  track ${t.id}: ${(t.firstMs / 1000).toFixed(1)}-${(t.lastMs / 1000).toFixed(1)} s, ${t.points.length} points, ${t.verdict ? `${t.verdict.label} ${(t.verdict.score * 100).toFixed(0)}%` : 'no verdict'}${t.alerted ? ' ALERT' : ''}`);
    return [head, ...rows].join('\n');
  }).join('\n');
}
